using ClipService.Core.Encoders;
using ClipService.Core.Models;
using Microsoft.Extensions.Options;

namespace ClipService.Hosting;

public static class StartupFailure
{
    /// <summary>
    /// Runs the app; configuration that cannot work (bad options, no models, a broken model folder, CUDA required
    /// but missing) ends the process with exit code 1 and one line saying why, not a stack trace.
    /// </summary>
    public static async Task<int> RunUntilStartupFailureAsync(this WebApplication app)
    {
        try
        {
            await app.RunAsync();
            return Environment.ExitCode;
        }
        catch (Exception e) when (Describe(e) is { } reason)
        {
            await Console.Error.WriteLineAsync($"ClipService cannot start: {reason}");
            return 1;
        }
    }

    private static string? Describe(Exception e) => e switch
    {
        OptionsValidationException v => string.Join("; ", v.Failures),
        ModelFolderException or ExecutionProviderException => e.Message,
        InvalidOperationException { InnerException: { } inner } when Describe(inner) is { } reason => reason,
        InvalidOperationException i when i.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => i.Message,
        AggregateException { InnerExceptions: [var only] } => Describe(only),
        _ => null,
    };
}
