using System.Net;
using System.Text.Json;
using ClipService.Hosting;
using Microsoft.Extensions.Configuration;

namespace ClipService.Tests;

/// <summary>The standard address settings decide where the process listens; without them it serves localhost:8080.</summary>
public sealed class ListeningAddressTests
{
    private static async Task AssertServesOnAsync(ServiceProcess service, int port)
    {
        var listening = await service.ListeningAsync();
        Assert.Equal(port, listening.Port);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var live = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/health/live"));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task The_urls_argument_sets_the_listening_address()
    {
        var port = ServiceProcess.FreePort();
        await using var service = ServiceProcess.Start(port);
        await AssertServesOnAsync(service, port);
    }

    [Fact]
    public async Task ASPNETCORE_URLS_sets_the_listening_address()
    {
        var port = ServiceProcess.FreePort();
        await using var service = ServiceProcess.Launch([], new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });
        await AssertServesOnAsync(service, port);
    }

    [Fact]
    public async Task ASPNETCORE_HTTP_PORTS_sets_the_listening_port_on_every_interface()
    {
        var port = ServiceProcess.FreePort();
        await using var service = ServiceProcess.Launch([], new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await AssertServesOnAsync(service, port);
        Assert.Contains($"Now listening on: http://[::]:{port}", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_urls_argument_wins_over_the_environment()
    {
        var port = ServiceProcess.FreePort();
        var other = ServiceProcess.FreePort();
        await using var service = ServiceProcess.Launch([$"--urls=http://127.0.0.1:{port}"],
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{other}", ["ASPNETCORE_HTTP_PORTS"] = $"{other}" });
        await AssertServesOnAsync(service, port);
    }

    /// <summary>
    /// With no address setting the service must serve http://localhost:8080, a fixed port other test runs on this
    /// machine may hold, so the process runs in a network namespace of its own (root and util-linux's unshare).
    /// The image's healthcheck command runs there too, with the same (empty) settings.
    /// </summary>
    [RequiresTools("unshare", "ip", RequireRoot = true)]
    public async Task Without_address_settings_the_service_serves_localhost_8080_and_healthcheck_finds_it()
    {
        var app = ServiceProcess.AppPath;
        var script = $"""
            ip link set lo up
            dotnet '{app}' & server=$!
            for i in $(seq 1 120); do dotnet '{app}' healthcheck && break; sleep 0.5; done
            status=$?
            kill -TERM $server; wait $server
            exit $status
            """;
        await using var service = ServiceProcess.Launch(["--net", "--", "bash", "-c", script], fileName: "unshare");
        var exit = await service.ExitCodeAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, service.Output + service.Error);
        Assert.Contains("Now listening on: http://localhost:8080", service.Output, StringComparison.Ordinal);
        Assert.Contains("healthy: http://localhost:8080/health/live answered 200", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthcheck_fails_with_one_line_when_nothing_listens()
    {
        var port = ServiceProcess.FreePort();
        await using var check = ServiceProcess.Launch([HealthcheckCommand.Name], new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = $"{port}" });
        Assert.Equal(1, await check.ExitCodeAsync(TimeSpan.FromSeconds(60)));
        Assert.Empty(check.Output);
        var line = Assert.Single(check.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"unhealthy: http://127.0.0.1:{port}/health/live unreachable", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthcheck_passes_against_a_running_service_on_a_wildcard_address()
    {
        var port = ServiceProcess.FreePort();
        var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://+:{port}" };
        await using var service = ServiceProcess.Launch([], environment);
        await service.WaitReadyAsync(new Uri($"http://127.0.0.1:{port}"));
        await using var check = ServiceProcess.Launch([HealthcheckCommand.Name], environment);
        Assert.True(await check.ExitCodeAsync(TimeSpan.FromSeconds(60)) == 0, check.Error);
        Assert.Contains($"healthy: http://127.0.0.1:{port}/health/live answered 200", check.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://+:8081", "http://127.0.0.1:8081/")]
    [InlineData("http://*:8082;https://*:8443", "http://127.0.0.1:8082/")]
    [InlineData("http://0.0.0.0:8083", "http://127.0.0.1:8083/")]
    [InlineData("http://[::]:8084", "http://127.0.0.1:8084/")]
    [InlineData("http://localhost:8085", "http://localhost:8085/")]
    public void A_wildcard_listening_address_is_reached_on_loopback(string urls, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = urls }).Build();
        Assert.Equal(new Uri(expected), ListeningAddress.LocalUri(configuration));
    }

    [Fact]
    public void Appsettings_sets_no_listening_address_that_would_override_the_environment()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(ClipServiceFactory.RepositoryRoot, "src", "ClipService", "appsettings.json")));
        Assert.DoesNotContain(settings.RootElement.EnumerateObject(), p => p.Name.Equals("Urls", StringComparison.OrdinalIgnoreCase)
            || p.Name.Equals("Kestrel", StringComparison.OrdinalIgnoreCase));
    }
}
