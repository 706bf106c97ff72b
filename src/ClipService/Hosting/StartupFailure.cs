using System.Reflection;
using ClipService.Core.Encoders;
using ClipService.Core.Models;
using Microsoft.Extensions.Options;

namespace ClipService.Hosting;

public static class StartupFailure
{
    /// <summary>
    /// Builds and runs the app. Anything that stops it from starting (invalid settings or listen addresses, a port
    /// in use, no models, a model folder that does not load, CUDA required but missing) ends the process with exit
    /// code 1 and one line on stderr saying why, not a stack trace: whether it is thrown while the app is built
    /// (Kestrel reads its options then) or while it starts. Models are loaded while the host starts, before the
    /// server listens, so such a failure happens before anything answers. Work that had started is stopped and awaited
    /// before the models are disposed.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, Action<WebApplicationBuilder> configure, Action<WebApplication> pipeline)
    {
        WebApplication app;
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot(args) });
            configure(builder);
            app = builder.Build();
            pipeline(app);
            ListeningAddress.Validate(app.Configuration);
        }
        catch (Exception e) when (e is not HostAbortedException) // how WebApplicationFactory takes over the host in tests
        {
            return await ReportAsync(e);
        }

        try
        {
            try
            {
                await app.StartAsync();
            }
            catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return Environment.ExitCode; // stopped (Ctrl+C, SIGTERM) while starting
            }
            catch (Exception e)
            {
                var exitCode = await ReportAsync(e);
                await StopBackgroundWorkAsync(app);
                return exitCode;
            }

            await app.WaitForShutdownAsync();
            return Environment.ExitCode;
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// After a failed start, stops what had started (the models' warm-up, the label-set precompute, the key-file
    /// watcher) and waits for it, so none of it still runs on the models when the app disposes them.
    /// </summary>
    private static async Task StopBackgroundWorkAsync(WebApplication app)
    {
        using var timeout = new CancellationTokenSource(StopAfterFailureTimeout);
        try
        {
            await app.StopAsync(timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The failure has been reported; a service that also fails to stop (the server that never bound) adds nothing.
        }
    }

    private static readonly TimeSpan StopAfterFailureTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The app's own folder, so that started from any working directory it reads the appsettings.json beside it; null
    /// (the host's default) when the content root is given (<c>--contentRoot</c>, ASPNETCORE_CONTENTROOT,
    /// DOTNET_CONTENTROOT), as WebApplicationFactory gives it in tests.
    /// </summary>
    private static string? ContentRoot(string[] args) =>
        args.Any(a => a.TrimStart('-', '/').StartsWith(HostDefaults.ContentRootKey, StringComparison.OrdinalIgnoreCase))
        || Environment.GetEnvironmentVariable("ASPNETCORE_" + HostDefaults.ContentRootKey.ToUpperInvariant()) is { Length: > 0 }
        || Environment.GetEnvironmentVariable("DOTNET_" + HostDefaults.ContentRootKey.ToUpperInvariant()) is { Length: > 0 }
            ? null
            : AppContext.BaseDirectory;

    private static async Task<int> ReportAsync(Exception e)
    {
        await Console.Error.WriteLineAsync($"ClipService cannot start: {OneLine(Describe(e))}");
        return 1;
    }

    internal static string Describe(Exception e) => e switch
    {
        OptionsValidationException v => string.Join("; ", v.Failures.Select(f => NameTheSetting(v.OptionsType, f))),
        AggregateException { InnerExceptions: [var only] } => Describe(only),
        AggregateException many => string.Join("; ", many.InnerExceptions.Select(Describe)),
        TargetInvocationException { InnerException: { } inner } => Describe(inner),
        // Dependency injection wraps what a factory threw; the settings binder's own message is the clearer one.
        InvalidOperationException { InnerException: OptionsValidationException or ModelFolderException or ExecutionProviderException } i => Describe(i.InnerException!),
        _ => e.Message,
    };

    /// <summary>A message as one line: every command's failures are one line on stderr.</summary>
    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>
    /// Rewrites a validation failure ("MaxPixels: The field ModelOptions.ImageDecoding.MaxPixels must be ...") to name
    /// the setting as it is configured ("Clip:ImageDecoding:MaxPixels must be ..."), using the options class's SectionName.
    /// </summary>
    private static string NameTheSetting(Type options, string failure)
    {
        if (options.GetField("SectionName")?.GetRawConstantValue() is not string section)
            return failure;
        var field = $"The field {options.Name}.";
        var start = failure.IndexOf(field, StringComparison.Ordinal);
        if (start >= 0)
        {
            var rest = failure[(start + field.Length)..];
            var end = rest.IndexOf(' ', StringComparison.Ordinal);
            return end < 0 ? failure : $"{section}:{rest[..end].Replace('.', ':')}{rest[end..]}";
        }

        var colon = failure.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && !failure[..colon].Contains(' ', StringComparison.Ordinal) ? $"{section}:{failure}" : failure;
    }
}
