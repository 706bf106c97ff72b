using System.Net;
using System.Text;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task With_otel_exporter_otlp_endpoint_set_the_spans_are_sent_over_otlp()
    {
        // An OTLP/HTTP receiver of our own: it records what is posted to /v1/traces.
        var port = ServiceProcess.FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        string[] expected = ["decode", "queue wait", "image encode", "text encode", "clipservice-under-test"];
        var received = new StringBuilder();
        var gotAll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                // Protobuf carries strings as UTF-8 bytes: span names can be found in the payload as they are.
                var text = $"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath} {context.Request.ContentType}: {Encoding.UTF8.GetString(body.ToArray())}";
                lock (received)
                {
                    received.AppendLine(text);
                    if (expected.All(e => received.ToString().Contains(e, StringComparison.Ordinal)))
                        gotAll.TrySetResult();
                }

                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        await using (var service = await ServiceProcess.StartReadyAsync([], new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_SERVICE_NAME"] = "clipservice-under-test",
        }))
        {
            using var client = new HttpClient { BaseAddress = service.Address };
            using var form = Form(TestImages.Shape("red", "circle", width: 64, height: 64), ("labels", "red circle"));
            using (var response = await client.PostAsync("/classify", form))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await gotAll.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }

        listener.Stop();
        await receiving;
        var all = received.ToString();
        Assert.Contains("POST /v1/traces application/x-protobuf", all, StringComparison.Ordinal);
        foreach (var name in expected)
            Assert.Contains(name, all, StringComparison.Ordinal);
    }
}
