using System.Net;
using ClipService.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class MetricsTests
{
    [Fact]
    public async Task Refusals_are_counted_by_reason()
    {
        await using var factory = new ClipServiceFactory(new Dictionary<string, string?>
        {
            ["Clip:Auth:ApiKeys:0"] = TestKeys.A,
            ["Clip:RateLimiting:PermitsPerMinute"] = "1",
            ["Clip:MaxRequestBytes"] = "4096",
        });
        using var client = await factory.ReadyClientAsync();
        using var rejected = new MetricCollector<long>(factory.Services.GetRequiredService<ClipMetrics>().Meter, "clip.requests.rejected");

        using (var response = await client.GetAsync("/models"))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        client.DefaultRequestHeaders.Add("X-API-Key", TestKeys.A);
        using (var response = await client.PostAsync("/classify", new ByteArrayContent(new byte[8192])))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using (var response = await client.GetAsync("/models"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var response = await client.GetAsync("/models"))
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);

        var reasons = rejected.GetMeasurementSnapshot().Select(m => (string)m.Tags["reason"]!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["rate_limited", "too_large", "unauthorized"], reasons);
    }

    [Fact]
    public async Task Encodes_are_counted_per_model_and_timed_per_encoder()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        var meter = factory.Services.GetRequiredService<ClipMetrics>().Meter;
        using var texts = new MetricCollector<long>(meter, "clip.texts.encoded");
        using var durations = new MetricCollector<double>(meter, "clip.encoder.duration");
        using var batchSizes = new MetricCollector<int>(meter, "clip.image.batch_size");

        using (var form = Form(TestImages.Shape("green", "square"), ("labels", $"a {Guid.NewGuid():N}"), ("labels", $"b {Guid.NewGuid():N}")))
        using (var response = await client.PostAsync("/classify", form))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var text = Assert.Single(texts.GetMeasurementSnapshot());
        Assert.Equal(2, text.Value);
        Assert.Equal("clip-shapes", text.Tags["model"]);
        Assert.Equal(1, Assert.Single(batchSizes.GetMeasurementSnapshot()).Value);
        var encoders = durations.GetMeasurementSnapshot().Select(m => (string)m.Tags["encoder"]!).Order(StringComparer.Ordinal);
        Assert.Equal(["image", "text"], encoders);
        Assert.All(durations.GetMeasurementSnapshot(), m => Assert.True(m.Value > 0));
    }

    [Fact]
    public async Task Metrics_are_served_in_the_prometheus_text_format()
    {
        await using var factory = new ClipServiceFactory();
        using var client = await factory.ReadyClientAsync();
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE clip_model_info gauge", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
    }
}
