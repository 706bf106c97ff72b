using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests;

/// <summary>
/// A real Prometheus server scrapes the service (started as the README starts it) and its query API must return the
/// contract's series with the values the test's own traffic implies.
/// </summary>
public sealed class PrometheusScrapeTests
{
    private const string Model = "clip-shapes";

    [ToolFact("prometheus")]
    public async Task Prometheus_scrapes_the_contract_series_with_values_that_match_the_traffic()
    {
        await using var service = await ServiceProcess.StartReadyAsync(["--Clip:MaxRequestBytes=65536"]);
        var work = Directory.CreateTempSubdirectory("prometheus-");
        try
        {
            await using var prometheus = await PrometheusServer.StartAsync(service.Address, work.FullName);
            using var client = new HttpClient { BaseAddress = service.Address };

            // Three classifications with the same three labels (3 text misses, then 6 hits), one text embedding of two
            // new texts (2 misses), and one body over the limit.
            for (var i = 0; i < 3; i++)
            {
                using var form = Form(TestImages.Shape("red", "circle", seed: i, width: 64, height: 64), ("labels", "red circle"), ("labels", "blue star"), ("labels", "green square"));
                using var classified = await client.PostAsync("/classify", form);
                Assert.Equal(HttpStatusCode.OK, classified.StatusCode);
            }

            using (var texts = await client.PostAsync("/embed/text", JsonContent("""{"texts":["a photo of a cat","a photo of a dog"]}""")))
                Assert.Equal(HttpStatusCode.OK, texts.StatusCode);
            using (var tooLarge = await client.PostAsync("/classify", new ByteArrayContent(new byte[100_000])))
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);

            var expected = new Dictionary<string, double>
            {
                [$"clip_images_encoded_total{{model=\"{Model}\"}}"] = 3,
                [$"clip_image_batch_size_sum{{model=\"{Model}\"}}"] = 3,
                [$"clip_texts_encoded_total{{model=\"{Model}\"}}"] = 5,
                ["clip_text_cache_lookups_total{result=\"miss\"}"] = 5,
                ["clip_text_cache_lookups_total{result=\"hit\"}"] = 6,
                [$"clip_encoder_duration_seconds_count{{model=\"{Model}\",encoder=\"text\"}}"] = 2,
                [$"clip_image_queue_length{{model=\"{Model}\"}}"] = 0,
                ["clip_requests_rejected_total{reason=\"too_large\"}"] = 1,
                [$"clip_model_info{{model=\"{Model}\",provider=\"CPUExecutionProvider\",precision=\"Default\"}}"] = 1,
                ["http_server_request_duration_seconds_count{http_route=\"/classify\",http_request_method=\"POST\",http_response_status_code=\"200\"}"] = 3,
                ["http_server_request_duration_seconds_count{http_route=\"/embed/text\",http_request_method=\"POST\",http_response_status_code=\"200\"}"] = 1,
            };
            var actual = await prometheus.WaitForAsync(expected, TimeSpan.FromSeconds(30));
            foreach (var (query, value) in expected)
                Assert.True(actual[query] == value, $"{query}: Prometheus has {actual[query]}, the traffic implies {value}");

            // Sequential requests: one batch per image; the image encoder ran once per batch.
            var batches = await prometheus.QueryAsync($"clip_image_batch_size_count{{model=\"{Model}\"}}");
            Assert.InRange(batches, 1, 3);
            Assert.Equal(batches, await prometheus.QueryAsync($"clip_encoder_duration_seconds_count{{model=\"{Model}\",encoder=\"image\"}}"));
            Assert.True(await prometheus.QueryAsync($"clip_encoder_duration_seconds_sum{{model=\"{Model}\",encoder=\"image\"}}") > 0);
            Assert.Equal(batches, await prometheus.QueryAsync($"clip_image_batch_size_bucket{{model=\"{Model}\",le=\"+Inf\"}}"));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    /// <summary>Debian's prometheus, scraping one target every second, on a free port with its own storage.</summary>
    private sealed class PrometheusServer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly HttpClient _client;

        private PrometheusServer(Process process, Uri address)
        {
            _process = process;
            _client = new HttpClient { BaseAddress = address };
        }

        public static async Task<PrometheusServer> StartAsync(Uri target, string work)
        {
            var config = Path.Combine(work, "prometheus.yml");
            await File.WriteAllTextAsync(config, $"""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: clipservice
                    metrics_path: /metrics
                    static_configs:
                      - targets: ['{target.Authority}']
                """);
            var port = ServiceProcess.FreePort();
            var start = new ProcessStartInfo(ExternalTool.Find("prometheus")!,
                [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(work, "data")}", $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new PrometheusServer(process, new Uri($"http://127.0.0.1:{port}"));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    using var ready = await server._client.GetAsync("/-/ready");
                    if (ready.IsSuccessStatusCode)
                        return server;
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(200);
            }

            await server.DisposeAsync();
            throw new InvalidOperationException("Prometheus did not become ready within 30 s.");
        }

        /// <summary>Queries until every expected value is seen (or the time is up); returns the last values read (NaN: no series).</summary>
        public async Task<Dictionary<string, double>> WaitForAsync(IReadOnlyDictionary<string, double> expected, TimeSpan limit)
        {
            var deadline = DateTime.UtcNow + limit;
            while (true)
            {
                var actual = new Dictionary<string, double>();
                foreach (var query in expected.Keys)
                    actual[query] = await QueryAsync(query);
                if (expected.All(e => actual[e.Key] == e.Value) || DateTime.UtcNow > deadline)
                    return actual;
                await Task.Delay(500);
            }
        }

        /// <summary>The instant value of a query that selects one series; NaN when it selects none.</summary>
        public async Task<double> QueryAsync(string query)
        {
            using var doc = JsonDocument.Parse(await _client.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}"));
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            Assert.True(result.GetArrayLength() <= 1, $"{query} selects {result.GetArrayLength()} series: {result}");
            return result.GetArrayLength() == 0 ? double.NaN
                : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
