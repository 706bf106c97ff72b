using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium.Chrome;

namespace ClipService.Tests.DemoPage;

/// <summary>
/// The service on a real Kestrel port under a path base (as behind a reverse proxy that forwards /clip/), and one
/// headless Chromium for a test class. Nothing starts where Chromium is missing (the tests skip).
/// </summary>
public sealed class DemoPageBrowser : IAsyncLifetime
{
    public const string PathBase = "/clip";

    /// <summary>Small enough that a 1200×1000 image is refused as too large.</summary>
    public const int MaxPixels = 1_000_000;

    private ClipServiceFactory? Factory { get; set; }
    private string? _profile;

    public ChromeDriver Driver { get; private set; } = null!;

    /// <summary>The same service, called directly, to compare the page with the API.</summary>
    public HttpClient Api { get; private set; } = null!;

    public Uri Origin { get; private set; } = null!;

    public Uri PageUrl => new(Origin, PathBase + "/");

    /// <summary>Files the tests upload.</summary>
    public string Files { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (HeadlessChromium.MissingReason is not null)
            return;
        Factory = new ClipServiceFactory(
            new Dictionary<string, string?> { ["Clip:ImageDecoding:MaxPixels"] = MaxPixels.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            services => services.AddSingleton<IStartupFilter>(new PathBaseStartupFilter(PathBase)));
        Factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        Factory.StartServer();
        var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        Origin = new Uri(addresses.Addresses.Single());
        (await Factory.ReadyClientAsync()).Dispose();
        Api = new HttpClient { BaseAddress = PageUrl };

        _profile = Directory.CreateTempSubdirectory("clipservice-chromium-").FullName;
        Files = Directory.CreateTempSubdirectory("clipservice-uploads-").FullName;
        Driver = HeadlessChromium.Start(_profile, 1280, 900);
    }

    public async Task DisposeAsync()
    {
        if (Factory is null)
            return;
        Driver?.Quit();
        Driver?.Dispose();
        Api.Dispose();
        await Factory.DisposeAsync();
        foreach (var folder in new[] { _profile, Files })
        {
            if (folder is not null && Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Serves the whole app under a path base, the way it is seen behind a reverse proxy on a sub-path.</summary>
    private sealed class PathBaseStartupFilter(string pathBase) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UsePathBase(pathBase);
            next(app);
        };
    }
}
