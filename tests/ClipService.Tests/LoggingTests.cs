using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog.Events;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>What the service writes to its console, read from its own process.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task One_line_per_api_request_with_model_and_labels_probes_at_debug_and_keys_never_written()
    {
        const string key = "secret-key-0123456789";
        const string wrongKey = "wrong-key-9876543210";
        await using var service = await ServiceProcess.StartReadyAsync([$"--Clip:Auth:ApiKeys:0={key}"]);
        using var client = new HttpClient { BaseAddress = service.Address };
        for (var i = 0; i < 3; i++)
            (await client.GetAsync("/health/ready")).Dispose();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", wrongKey) } })
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
        using (var form = Form(TestImages.Shape("red", "circle", width: 64, height: 64), ("labels", "red circle"), ("labels", "blue star")))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/classify") { Content = form, Headers = { { "X-API-Key", key } } })
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!service.Output.Contains("HTTP POST /classify", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var output = service.Output;
        Assert.Contains("HTTP POST /classify responded 200", output, StringComparison.Ordinal);
        Assert.Contains("(model clip-shapes, labels 2, body bytes", output, StringComparison.Ordinal);
        Assert.DoesNotContain("/health/ready responded", output, StringComparison.Ordinal);
        Assert.Contains("HTTP GET /models responded 401", output, StringComparison.Ordinal);
        Assert.Contains("; refused an unknown API key (client key-", output, StringComparison.Ordinal);
        Assert.DoesNotContain(key, output, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Started_from_another_working_directory_it_reads_the_settings_beside_the_app()
    {
        // The process starts in the repository root (ServiceProcess), not in the folder of ClipService.dll.
        Assert.NotEqual(Path.GetFullPath(ClipServiceFactory.RepositoryRoot), Path.GetDirectoryName(ServiceProcess.AppPath));
        await using var service = await ServiceProcess.StartReadyAsync();
        var appFolder = Path.GetDirectoryName(ServiceProcess.AppPath)!;
        Assert.Contains($"Content root path: {appFolder}", service.Output, StringComparison.Ordinal);
        // The ready line names who decodes JPEG pixels: the system's libjpeg-turbo where it is installed.
        var library = new ClipService.Core.Imaging.ImageDecodingOptions().JpegLibrary;
        Assert.Contains($"Ready: 1 model(s), default clip-shapes; JPEG pixels from {library}", service.Output, StringComparison.Ordinal);
        // appsettings.json there turns the framework's request lines off (Microsoft.AspNetCore at Warning).
        using var client = new HttpClient { BaseAddress = service.Address };
        (await client.GetAsync("/models")).Dispose();
        await Task.Delay(300);
        Assert.DoesNotContain("Request starting", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_logs_to_its_own_sinks_while_another_host_in_the_process_starts_and_stops()
    {
        // Serilog's static logger is the last host's, and a host's disposal silences it: a host that logged through
        // it lost its own lines whenever another (a test beside it, a second app) started or stopped.
        var mine = new CapturedLog();
        await using var first = new ClipServiceFactory(services: mine.Register);
        using (await first.ReadyClientAsync()) { }
        var theirs = new CapturedLog();
        await using (var second = new ClipServiceFactory(services: theirs.Register))
        {
            using (await second.ReadyClientAsync()) { }
            first.Services.GetRequiredService<ILogger<LoggingTests>>().LogWarning("first host, while the second runs");
        }

        first.Services.GetRequiredService<ILogger<LoggingTests>>().LogWarning("first host, after the second stopped");

        Assert.Single(mine.Find(LogEventLevel.Warning, "first host, while the second runs"));
        Assert.Single(mine.Find(LogEventLevel.Warning, "first host, after the second stopped"));
        Assert.Empty(theirs.Find(LogEventLevel.Warning, "first host"));
    }
}
