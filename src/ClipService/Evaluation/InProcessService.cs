using System.Security.Cryptography;
using ClipService.Access;
using ClipService.Core.Models;
using ClipService.Hosting;
using ClipService.Models;
using ClipService.RateLimiting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace ClipService.Evaluation;

/// <summary>
/// The service itself, started inside <c>evaluate</c> on a free loopback port with the models folder and settings a
/// served instance would use (appsettings.json, environment, --Clip:...), so evaluation runs the same endpoints,
/// batcher and caches. What would disturb a measurement is off: label-set precompute, rate limits, request logging.
/// It is reachable only with a key made for this run.
/// </summary>
public sealed class InProcessService : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessService(WebApplication app, Uri address, string apiKey)
    {
        _app = app;
        Address = address;
        ApiKey = apiKey;
    }

    public Uri Address { get; }

    public string ApiKey { get; }

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
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var apiKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        builder.Services.PostConfigure<ApiKeyOptions>(options =>
        {
            options.ApiKeys = [apiKey];
            options.ApiKeysFile = null;
        });
        builder.Services.PostConfigure<RateLimitingOptions>(options => options.PermitsPerMinute = 0);

        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapClipEndpoints();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new InProcessService(app, new Uri(address.EndsWith('/') ? address : address + "/"), apiKey);
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
