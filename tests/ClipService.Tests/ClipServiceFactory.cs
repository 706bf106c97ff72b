using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ClipService.Tests;

/// <summary>The service in memory, with configuration a test may change and services it may swap.</summary>
public sealed class ClipServiceFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public ClipServiceFactory(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["Clip:ModelsPath"] = Path.Combine(RepositoryRoot, "models"),
            // Tests count encoder calls and share two cores: label sets are embedded on first use unless a test asks.
            ["Clip:PrecomputeLabelSets"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
        _services = services;
    }

    public static string RepositoryRoot { get; } = FindRoot();

    public static string TestModels => Path.Combine(RepositoryRoot, "tests", "assets", "models");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        if (_services is not null)
            builder.ConfigureTestServices(_services);
    }

    /// <summary>A client, once /health/ready says the models are loaded.</summary>
    public async Task<HttpClient> ReadyClientAsync()
    {
        var client = CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await client.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
                return client;
            await Task.Delay(50);
        }

        throw new TimeoutException("The service did not become ready within 60 s.");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipService.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("ClipService.sln not found above the test binaries.");
    }
}
