using System.Diagnostics;
using System.Net;
using ClipService.Hosting;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class LogSanitizingTests
{
    [Fact]
    public async Task A_request_path_with_CR_LF_forges_no_line_in_the_text_log()
    {
        // Ready as /health/ready says: "Ready:" in the log can come before the server listens (warm-up runs as it starts).
        await using var service = await ServiceProcess.StartReadyAsync(
            [$"--Clip:ModelsPath={Path.Combine(ClipServiceFactory.TestModels, "tiny-clip")}", "--Logging:Json=false"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();

        // Kestrel decodes %0D%0A in the path to CR LF, which the request log line carries.
        using var response = await http.GetAsync(new Uri(service.Address, "/nothing%0D%0A%5B22:00:00%20ERR%5D%20injected%1B%5B31m"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        while (!service.Output.Contains("responded 404", StringComparison.Ordinal))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(70), "the request was not logged");
            await Task.Delay(50);
        }

        var lines = service.Output.Split('\n');
        Assert.DoesNotContain(lines, line => line.StartsWith("[22:00:00 ERR]", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', service.Output);
        // The request log's line, with the path escaped on it.
        Assert.Single(lines, line => line.Contains(@"HTTP GET /nothing\r\n[22:00:00 ERR] injected\u001b[31m responded 404", StringComparison.Ordinal));
    }

    [Fact]
    public void Long_values_are_cut_and_say_how_long_they_were()
    {
        var sanitized = LogSanitizing.Sanitize(new string('x', 1_000_000));
        Assert.StartsWith(new string('x', LogSanitizing.MaxValueLength) + "…", sanitized, StringComparison.Ordinal);
        Assert.EndsWith("(1,000,000 characters)", sanitized, StringComparison.Ordinal);
        Assert.Equal("tab\\tnel\\u0085ls\\u2028", LogSanitizing.Sanitize("tab\tnel\u0085ls\u2028"));
        Assert.Equal("plain text", LogSanitizing.Sanitize("plain text"));
    }

    [Fact]
    public async Task An_unknown_model_name_of_a_megabyte_is_not_echoed_whole()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        using var form = Form(TestImages.Shape("red", "circle", width: 64, height: 64), ("labels", "red circle"), ("model", new string('m', 1_000_000)));
        var response = await client.PostAsync("/classify", form);
        var body = await AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.True(body.Length < 1_000, $"the 404 body is {body.Length:N0} characters");
        Assert.Contains("(1,000,000 characters)", body, StringComparison.Ordinal);
    }
}
