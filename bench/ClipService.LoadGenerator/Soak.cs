using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ClipService.LoadGenerator;

/// <summary>
/// The hardening soak (#13), against a running service whose process id is given (its CPU time and RSS are read
/// from /proc): the CPU cost of a refused request next to an admitted one, p99 of admitted requests under
/// overload, RSS after bursts of large images and after idling, and /health/live latency during a decode flood.
/// Start the service with a small admission capacity (bench/soak.sh does).
/// </summary>
internal static class Soak
{
    public static async Task<int> RunAsync(Options options)
    {
        var url = options.Get("url", "http://localhost:8080").TrimEnd('/');
        var pid = int.Parse(options.Get("pid", "0"), CultureInfo.InvariantCulture);
        var capacity = int.Parse(options.Get("capacity", "4"), CultureInfo.InvariantCulture);
        var idleSeconds = options.Seconds("idle", "60");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { Timeout = TimeSpan.FromSeconds(300) };
        var small = HttpLoad.MakeImages(8, 640, 480);
        var idleRss = Rss(pid);
        Console.WriteLine($"idle RSS: {idleRss} MB");

        // 0. The floor of any request: GET /health/live, same connection reuse.
        const int Probes = 400;
        var floorCpu = CpuMs(pid);
        for (var i = 0; i < Probes; i++)
        {
            using var response = await http.GetAsync($"{url}/health/live");
            await response.Content.ReadAsByteArrayAsync();
        }

        var floorMs = (CpuMs(pid) - floorCpu) / Probes;

        // 1. Refusal cost: the gate is held full by uploads that never finish; every further request is refused.
        var holds = new List<Socket>();
        for (var i = 0; i < capacity; i++)
            holds.Add(await HoldAsync(new Uri(url)));
        await Task.Delay(500);
        const int Refusals = 400;
        var cpu = CpuMs(pid);
        var refused = await SequentialAsync(http, url, small, Refusals);
        var refusalMs = (CpuMs(pid) - cpu) / Refusals;
        foreach (var hold in holds)
            hold.Dispose();
        await Task.Delay(500);
        const int Admitted = 100;
        cpu = CpuMs(pid);
        var admitted = await SequentialAsync(http, url, small, Admitted);
        var admittedMs = (CpuMs(pid) - cpu) / Admitted;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"refusal: {refusalMs:F3} ms CPU per refused /classify with a {small.Average(i => i.Length) / 1024:F0} KB image ({refused.GetValueOrDefault(503)} of {Refusals} got 503); GET /health/live: {floorMs:F3} ms; admitted 640x480 /classify: {admittedMs:F2} ms CPU ({admitted.GetValueOrDefault(200)} of {Admitted} got 200); ratio {refusalMs / admittedMs:F4}"));

        // 2. Overload: 8× the capacity in closed-loop clients for 15 s.
        var (latencies, statuses, seconds) = await ClosedLoopAsync(http, url, small, capacity * 8, TimeSpan.FromSeconds(15));
        Console.WriteLine(Percentiles.Row($"overload, {capacity * 8} clients, capacity {capacity}: admitted req/s, p50/p95/p99 ms", latencies.Count, seconds, latencies,
            string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"))));

        // 3. Decode flood of 36-megapixel PNGs with /health/live probed every 100 ms, RSS sampled.
        var large = LargePng(6000, 6000);
        Console.WriteLine($"large PNG: 6000x6000, {large.Length / 1024} KB");
        var peak = 0L;
        var live = new List<double>();
        using var stop = new CancellationTokenSource();
        var probe = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var sent = Stopwatch.GetTimestamp();
                using (await http.GetAsync($"{url}/health/live"))
                    live.Add(Clock.Ms(sent));
                peak = Math.Max(peak, Rss(pid));
                await Task.Delay(100);
            }
        });
        var floodStatuses = new ConcurrentDictionary<int, int>();
        for (var burst = 0; burst < 3; burst++)
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
            {
                using var form = new MultipartFormDataContent { { new ByteArrayContent(large), "image", "large.png" } };
                using var response = await http.PostAsync($"{url}/embed/image", form);
                floodStatuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            }));
        }

        await stop.CancelAsync();
        await probe;
        var afterBurst = Rss(pid);
        Console.WriteLine(Percentiles.Row("/health/live during the flood (3 bursts × 32 large PNGs)", live.Count, 1, live,
            "flood: " + string.Join(", ", floodStatuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"))));
        Console.WriteLine($"RSS: idle {idleRss} MB, peak during flood {peak} MB, right after {afterBurst} MB");
        for (var waited = 0; waited < idleSeconds; waited += 10)
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RSS {waited + 10} s after the flood: {Rss(pid)} MB ({(double)Rss(pid) / idleRss:F2}× idle)"));
        }

        return 0;
    }

    private static async Task<Dictionary<int, int>> SequentialAsync(HttpClient http, string url, List<byte[]> images, int count)
    {
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < count; i++)
        {
            using var response = await http.PostAsync($"{url}/classify", Form(images[i % images.Count]));
            await response.Content.ReadAsByteArrayAsync();
            statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
        }

        return statuses;
    }

    private static async Task<(List<double>, ConcurrentDictionary<int, int>, double)> ClosedLoopAsync(
        HttpClient http, string url, List<byte[]> images, int clients, TimeSpan duration)
    {
        var latencies = new ConcurrentBag<double>();
        var statuses = new ConcurrentDictionary<int, int>();
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            var n = client;
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                var sent = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync($"{url}/classify", Form(images[n++ % images.Count]));
                await response.Content.ReadAsByteArrayAsync();
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, c) => c + 1);
                if (response.IsSuccessStatusCode)
                    latencies.Add(Clock.Ms(sent));
                else
                    await Task.Delay(50); // a refused client backs off a little, as Retry-After asks
            }
        }));
        return ([.. latencies], statuses, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static MultipartFormDataContent Form(byte[] image)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "image.jpg" } };
        foreach (var label in new[] { "red circle", "blue star", "green square", "yellow triangle" })
            form.Add(new StringContent(label), "labels");
        return form;
    }

    // An upload whose headers and first bytes arrive and whose rest never does: it holds a place in the gate.
    private static async Task<Socket> HoldAsync(Uri url)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(url.Host, url.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /classify HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Type: multipart/form-data; boundary=held\r\nContent-Length: 1000000\r\n\r\n--held\r\n"));
        return socket;
    }

    private static byte[] LargePng(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                    row[x] = new Rgb24((byte)(x / 24), (byte)(y / 24), (byte)((x + y) / 48));
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static long Rss(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).First();

    // utime + stime of the process, in milliseconds (clock ticks of 10 ms on Linux).
    internal static double CpuMs(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }
}
