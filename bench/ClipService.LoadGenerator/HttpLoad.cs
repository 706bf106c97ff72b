using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ClipService.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ClipService.LoadGenerator;

/// <summary>Closed-loop load: each of C clients sends /classify requests back to back for the duration.</summary>
internal static class HttpLoad
{
    public static async Task<int> RunAsync(Options options)
    {
        var url = options.Get("url", "http://localhost:8080").TrimEnd('/');
        var duration = TimeSpan.FromSeconds(options.Seconds("duration", "20"));
        var warmup = TimeSpan.FromSeconds(options.Seconds("warmup", "3"));
        var labels = options.Get("labels", "red circle,blue star,green square,yellow triangle,black cross,white ring,orange ring,purple star").Split(',');
        var size = options.Get("image-size", "640x480").Split('x').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var photo = options.Get("photo", "");
        var folder = options.Get("images", "");
        var images = folder.Length > 0 ? [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)]
            : photo.Length > 0 ? CropPhoto(photo, 16, size[0], size[1]) : MakeImages(16, size[0], size[1]);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { Timeout = TimeSpan.FromSeconds(120) };
        var kind = folder.Length > 0 ? $"files of {folder} ({images.Count}, {images.Average(i => i.Length) / 1024:F0} KB on average)" : photo.Length > 0 ? $"photo JPEG (crops of {Path.GetFileName(photo)}, {images.Average(i => i.Length) / 1024:F0} KB on average)" : "JPEG of coloured shapes";
        Console.WriteLine($"POST {url}/classify, {labels.Length} labels, {size[0]}x{size[1]} {kind}, {duration.TotalSeconds:F0} s per level after {warmup.TotalSeconds:F0} s warm-up");
        // With --pid (the service's process): its CPU time per answered request in the window, from /proc.
        var pid = int.Parse(options.Get("pid", "0"), CultureInfo.InvariantCulture);
        Console.WriteLine(pid > 0 ? "| concurrency | requests/s | p50 ms | p95 ms | p99 ms | errors | service CPU ms per request | load generator CPU ms per request |" : "| concurrency | requests/s | p50 ms | p95 ms | p99 ms | errors |");
        Console.WriteLine(pid > 0 ? "| --- | --- | --- | --- | --- | --- | --- | --- |" : "| --- | --- | --- | --- | --- | --- |");
        foreach (var concurrency in options.Ints("concurrency", "1,8,32,64"))
        {
            await Level(http, url, images, labels, concurrency, warmup, record: false);
            var cpuBefore = pid > 0 ? Soak.CpuMs(pid) : 0;
            var ownBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var (latencies, errors, seconds) = await Level(http, url, images, labels, concurrency, duration, record: true);
            var cpuMs = pid > 0 ? Soak.CpuMs(pid) - cpuBefore : 0;
            var ownMs = (Process.GetCurrentProcess().TotalProcessorTime - ownBefore).TotalMilliseconds;
            var errorText = errors.IsEmpty ? "0" : string.Join(", ", errors.Select(e => $"{e.Key}: {e.Value}"));
            if (pid > 0)
                errorText += string.Create(CultureInfo.InvariantCulture, $" | {cpuMs / Math.Max(1, latencies.Count):F2} | {ownMs / Math.Max(1, latencies.Count):F2}");
            Console.WriteLine(Percentiles.Row(concurrency.ToString(CultureInfo.InvariantCulture), latencies.Count, seconds, latencies, errorText));
        }

        return 0;
    }

    private static async Task<(List<double> Latencies, ConcurrentDictionary<string, int> Errors, double Seconds)> Level(
        HttpClient http, string url, List<byte[]> images, string[] labels, int concurrency, TimeSpan duration, bool record)
    {
        var latencies = new ConcurrentBag<double>();
        var errors = new ConcurrentDictionary<string, int>();
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var clients = Enumerable.Range(0, concurrency).Select(async client =>
        {
            var n = client;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                using var form = new MultipartFormDataContent { { new ByteArrayContent(images[n++ % images.Count]), "image", "image.jpg" } };
                foreach (var label in labels)
                    form.Add(new StringContent(label), "labels");
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.PostAsync($"{url}/classify", form);
                    await response.Content.ReadAsByteArrayAsync();
                    if (response.IsSuccessStatusCode)
                        latencies.Add(Clock.Ms(sent));
                    else
                        errors.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, c) => c + 1);
                }
                catch (HttpRequestException e)
                {
                    errors.AddOrUpdate(e.GetType().Name, 1, (_, c) => c + 1);
                }
            }
        });
        await Task.WhenAll(clients);
        return ([.. latencies], errors, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    // Photo-like uploads: crops of a large photo at 16 offsets, scaled to cover the size, quality 90.
    private static List<byte[]> CropPhoto(string path, int count, int width, int height)
    {
        using var photo = Image.Load<Rgb24>(path);
        var scale = Math.Max((double)width / photo.Width, (double)height / photo.Height);
        photo.Mutate(x => x.Resize((int)Math.Ceiling(photo.Width * scale), (int)Math.Ceiling(photo.Height * scale)));
        var images = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var left = (photo.Width - width) * i / Math.Max(1, count - 1);
            var top = (photo.Height - height) * (count - 1 - i) / Math.Max(1, count - 1);
            using var crop = photo.Clone(x => x.Crop(new Rectangle(left, top, width, height)));
            using var stream = new MemoryStream();
            crop.Save(stream, new JpegEncoder { Quality = 90 });
            images.Add(stream.ToArray());
        }

        return images;
    }

    internal static List<byte[]> MakeImages(int count, int width, int height)
    {
        var random = new Random(7);
        var images = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            using var image = ShapeImageGenerator.Render(random, ShapeImageGenerator.ColourNames[i % 8], ShapeImageGenerator.Shapes[i % 6], width, height);
            using var stream = new MemoryStream();
            image.Save(stream, new JpegEncoder { Quality = 90 });
            images.Add(stream.ToArray());
        }

        return images;
    }
}
