using System.Security.Cryptography;
using ClipService.Core.Models;
using ClipService.Hosting;
using ClipService.Models;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ClipService.Evaluation;

/// <summary>
/// The service itself, built inside <c>evaluate</c> with the models folder and settings a served instance would use
/// (appsettings.json, environment, --Clip:...), so evaluation runs the same models, batcher and caches through
/// <see cref="EngineTarget"/>. It opens no port. What would disturb a measurement is off: label-set precompute and
/// request logging.
/// </summary>
public sealed class InProcessService : IAsyncDisposable
{
    private static readonly TimeSpan ReadyPollInterval = TimeSpan.FromMilliseconds(20);

    private readonly WebApplication _app;

    private InProcessService(WebApplication app)
    {
        _app = app;
        Target = new EngineTarget(app.Services);
    }

    public IEvaluationTarget Target { get; }

    /// <summary>Starts it; a failure (settings, models) is thrown with a message for one line.</summary>
    public static async Task<InProcessService> StartAsync(IReadOnlyList<string> settings, int labelCount, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. settings], ContentRootPath = AppContext.BaseDirectory });
        var configuredMaxLabels = builder.Configuration.GetValue<int?>("Clip:MaxLabels") ?? Requests.RequestLimitsOptions.DefaultMaxLabels;
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clip:PrecomputeLabelSets"] = "false",
            ["Clip:Shutdown:DrainDelaySeconds"] = "0",
            ["Clip:EnableSwagger"] = "false",
            ["Clip:EnableDemoPage"] = "false",
            // A dataset's classes are one request's labels; the limit guards a public endpoint, not this one.
            ["Clip:MaxLabels"] = Math.Max(configuredMaxLabels, labelCount).ToString(System.Globalization.CultureInfo.InvariantCulture),
            // The report lists refused images; the console is for progress and the summary.
            ["Serilog:MinimumLevel:Default"] = "Error",
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Error",
            ["Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime"] = "Error",
        });
        builder.AddServiceDefaults();
        builder.AddClipFeatures();
        // The engine is called directly: no listening socket, so no port to clash with a running service.
        builder.Services.AddSingleton<IServer, NoServer>();

        // No middleware or endpoints: nothing reaches this host over HTTP (EngineTarget calls the engine).
        var app = builder.Build();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        // Models load while the host starts; the warm-up run follows in the background, and only then are they served.
        var registry = app.Services.GetRequiredService<ModelRegistry>();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        while (!registry.IsReady)
        {
            if (lifetime.ApplicationStopping.IsCancellationRequested || cancellationToken.IsCancellationRequested)
            {
                await app.DisposeAsync();
                cancellationToken.ThrowIfCancellationRequested();
                throw new InvalidOperationException("the models failed their warm-up run.");
            }

            await Task.Delay(ReadyPollInterval, cancellationToken);
        }

        return new InProcessService(app);
    }

    /// <summary>SHA-256 of the files each model runs on: its ONNX encoders (and their external weights), config and tokenizer files.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<FileDigest>> Digests()
    {
        var registry = _app.Services.GetRequiredService<ModelRegistry>();
        return registry.Models.ToDictionary(m => m.Name, m => (IReadOnlyList<FileDigest>)DigestsOf(m.Folder), StringComparer.Ordinal);
    }

    private static List<FileDigest> DigestsOf(ClipModelFolder folder)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var encoder in new[] { folder.TextModelPath, folder.VisionModelPath })
        {
            files.Add(encoder);
            // External weights sit beside the graph under its name: text_model.onnx_data, model.onnx.data.
            foreach (var beside in Directory.EnumerateFiles(Path.GetDirectoryName(encoder)!, Path.GetFileName(encoder) + "*"))
                files.Add(beside);
        }

        foreach (var directory in new[] { folder.Directory, folder.TokenizerDirectory }.Distinct())
        foreach (var file in Directory.EnumerateFiles(directory))
            if (Path.GetExtension(file) is ".json" or ".txt" or ".model")
                files.Add(file);
        return files.Select(file =>
        {
            using var stream = File.OpenRead(file);
            return new FileDigest(Path.GetRelativePath(folder.Directory, file).Replace(Path.DirectorySeparatorChar, '/'),
                Convert.ToHexStringLower(SHA256.HashData(stream)), stream.Length);
        }).ToList();
    }

    private sealed class NoServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
