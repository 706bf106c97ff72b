using System.Diagnostics;
using System.Net;
using ClipService.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class TracingTests
{
    [Fact]
    public async Task A_classification_is_one_trace_with_decode_queue_wait_and_both_encodes_under_the_request_span()
    {
        var spans = new List<Activity>();
        await using var factory = new ClipServiceFactory(services: services =>
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        using var client = await factory.ReadyClientAsync();

        // The trace is the test's own (a W3C traceparent), so spans of other tests' hosts in this process are told apart.
        var trace = ActivityTraceId.CreateRandom();
        using var form = Form(TestImages.Shape("blue", "star"), ("labels", $"label {Guid.NewGuid():N}"), ("labels", $"label {Guid.NewGuid():N}"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/classify") { Content = form };
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using (var response = await client.SendAsync(request))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        List<Activity> mine = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            lock (spans)
                mine = [.. spans.Where(s => s.TraceId == trace)];
            if (mine.Any(s => s.Kind == ActivityKind.Server))
                break;
            await Task.Delay(50);
        }

        var server = Assert.Single(mine, s => s.Kind == ActivityKind.Server);
        Assert.Equal("/classify", server.GetTagItem("http.route"));
        foreach (var name in new[] { ClipTracing.Decode, ClipTracing.QueueWait, ClipTracing.ImageEncode, ClipTracing.TextEncode })
        {
            var child = Assert.Single(mine, s => s.DisplayName == name);
            Assert.Equal(server.SpanId, child.ParentSpanId);
            Assert.True(child.StartTimeUtc >= server.StartTimeUtc && child.StartTimeUtc + child.Duration <= server.StartTimeUtc + server.Duration,
                $"{name} lies outside the request span");
        }

        Assert.Equal(2, Assert.Single(mine, s => s.DisplayName == ClipTracing.TextEncode).GetTagItem("clip.texts"));
    }

    [Fact]
    public async Task Health_probes_are_not_traced()
    {
        var spans = new List<Activity>();
        await using var factory = new ClipServiceFactory(services: services =>
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        using var client = await factory.ReadyClientAsync();
        var trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/ready");
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using (var response = await client.SendAsync(request))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Task.Delay(200);
        lock (spans)
            Assert.DoesNotContain(spans, s => s.TraceId == trace);
    }
}
