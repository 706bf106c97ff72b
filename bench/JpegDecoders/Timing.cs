using System.Diagnostics;
using System.Runtime.InteropServices;
using ClipService.Core.Imaging;
using ClipService.Core.Imaging.TurboJpeg;

namespace JpegDecoders;

/// <summary>
/// Decode-only timings, one thread: JPEG bytes to a fresh buffer of 8-bit pixels (Skia: the service's
/// ClipImageDecoder.Decode, RGBA; TurboJPEG: the service's TurboJpegDecoder.TryDecodeRgba (scan count, header, tjDecompress2) into a reused buffer; libvips:
/// NewFromBuffer / jpegload shrink + WriteToMemory, RGB). Candidates alternate within each round (the first one
/// rotates from round to round); each measurement runs about <see cref="TargetSeconds"/>.
/// </summary>
internal static class Timing
{
    private const double TargetSeconds = 0.5;
    private const double WarmupSeconds = 0.3;

    private sealed record Input(string Name, byte[] Jpeg, int Reduction, int Width, int Height);

    public static int Run(int rounds)
    {
        VipsRaw.Configure();
        var exact = new ClipImageDecoder();
        var fast = new ClipImageDecoder(new ImageDecodingOptions { FastJpegScaling = true });
        // The short side ClipImagePreprocessor lets a 224 model's JPEG shrink to: 1/2 for 1080p, 1/4 for 12 MP.
        var reducible = new ClipImagePreprocessor(PreprocessorSettings.OpenAi(224)).ReducibleToShortSide;

        var photo = Inputs.Photo12Mp();
        var c1080 = Inputs.Crop1080p(photo);
        var inputs = new[] { ("1080p", c1080, 1), ("1080p", c1080, 2), ("12 MP", photo, 1), ("12 MP", photo, 4) }
            .Select(x =>
            {
                var (w, hh) = TurboRaw.Size(x.Item2, x.Item3);
                return new Input(x.Item3 == 1 ? $"{x.Item1} exact" : $"{x.Item1} 1/{x.Item3}", x.Item2, x.Item3, w, hh);
            }).ToArray();
        var turboBuffer = new byte[inputs.Max(i => i.Width * i.Height * 4)];

        var candidates = new (string Name, Func<Input, int> Decode)[]
        {
            ("Skia", input =>
            {
                using var image = input.Reduction == 1 ? exact.Decode(input.Jpeg) : fast.Decode(input.Jpeg, reducible);
                if (image.Width != input.Width || image.Height != input.Height)
                    throw new InvalidOperationException($"Skia decoded {input.Name} at {image.Width}×{image.Height}");
                return image.Pixels[^1];
            }),
            ("TurboJPEG", input =>
            {
                if (!TurboJpegDecoder.TryDecodeRgba(input.Jpeg, turboBuffer, input.Width * 4, input.Width, input.Height))
                    throw new InvalidOperationException($"TurboJPEG declined {input.Name}");
                return turboBuffer[input.Width * input.Height * 4 - 1];
            }),
            ("NetVips", input =>
            {
                using var image = VipsRaw.Load(input.Jpeg, input.Reduction);
                var memory = image.WriteToMemory(out var size);
                try
                {
                    if (image.Width != input.Width || image.Height != input.Height || (long)size != (long)input.Width * input.Height * 3)
                        throw new InvalidOperationException($"libvips decoded {input.Name} at {image.Width}×{image.Height}, {size} bytes");
                    return Marshal.ReadByte(memory, (int)size - 1);
                }
                finally
                {
                    NetVips.NetVips.Free(memory);
                }
            }),
        };

        Console.WriteLine($"{Environment.NewLine}## Environment{Environment.NewLine}");
        Console.WriteLine($"- CPU: {CpuInfo("model name")}, {Environment.ProcessorCount} logical CPUs; AVX-512: {string.Join(' ', CpuInfo("flags").Split(' ').Where(f => f.StartsWith("avx512", StringComparison.Ordinal)).Order(StringComparer.Ordinal))}");
        Console.WriteLine($"- .NET {Environment.Version}; SkiaSharp native {SkiaSharp.SkiaSharpVersion.Native}; {VipsRaw.Version} (concurrency {NetVips.NetVips.Concurrency}, cache off); libturbojpeg.so.0 (system)");
        Console.WriteLine($"- inputs: {string.Join("; ", inputs.Select(i => $"{i.Name} → {i.Width}×{i.Height} ({i.Jpeg.Length:N0} B)"))}");

        // Warm-up, and the iteration count that makes each measurement about TargetSeconds.
        var iterations = new int[candidates.Length, inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            for (var c = 0; c < candidates.Length; c++)
            {
                var watch = Stopwatch.StartNew();
                var n = 0;
                while (n < 2 || watch.Elapsed.TotalSeconds < WarmupSeconds)
                {
                    candidates[c].Decode(inputs[i]);
                    n++;
                }

                iterations[c, i] = Math.Max(1, (int)Math.Round(TargetSeconds / (watch.Elapsed.TotalSeconds / n)));
            }
        }

        var ms = new double[candidates.Length, inputs.Length, rounds];
        var total = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r++)
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                for (var k = 0; k < candidates.Length; k++)
                {
                    var c = (r + k) % candidates.Length;
                    var n = iterations[c, i];
                    var sink = 0;
                    var watch = Stopwatch.StartNew();
                    for (var j = 0; j < n; j++)
                        sink += candidates[c].Decode(inputs[i]);
                    ms[c, i, r] = watch.Elapsed.TotalMilliseconds / n;
                    GC.KeepAlive(sink);
                }
            }

            Console.Error.WriteLine($"round {r + 1}/{rounds} done ({total.Elapsed.TotalSeconds:F0} s)");
        }

        Console.WriteLine($"{Environment.NewLine}## Decode-only, one thread: median ms per image over {rounds} rounds (min–max), ratio = median / Skia's median{Environment.NewLine}");
        Console.WriteLine($"| input | {string.Join(" | ", candidates.Select(c => c.Name))} | {string.Join(" | ", candidates.Skip(1).Select(c => c.Name + " / Skia"))} |");
        Console.WriteLine($"|---|{string.Concat(Enumerable.Repeat("---|", 2 * candidates.Length - 1))}");
        var noisy = new List<string>();
        for (var i = 0; i < inputs.Length; i++)
        {
            var medians = new double[candidates.Length];
            var cells = new string[candidates.Length];
            for (var c = 0; c < candidates.Length; c++)
            {
                var values = Enumerable.Range(0, rounds).Select(r => ms[c, i, r]).Order().ToArray();
                medians[c] = values[rounds / 2];
                cells[c] = $"{medians[c]:F2} ({values[0]:F2}–{values[^1]:F2})";
                var spread = (values[^1] - values[0]) / medians[c];
                if (spread > 0.2)
                    noisy.Add($"{inputs[i].Name} {candidates[c].Name}: rounds span {spread:P0} of the median");
            }

            Console.WriteLine($"| {inputs[i].Name} | {string.Join(" | ", cells)} | {string.Join(" | ", medians.Skip(1).Select(m => $"{m / medians[0]:F2}"))} |");
        }

        Console.WriteLine($"{Environment.NewLine}iterations per measurement: {string.Join("; ", inputs.Select((input, i) => $"{input.Name} {string.Join('/', Enumerable.Range(0, candidates.Length).Select(c => iterations[c, i]))}"))}");
        Console.WriteLine(noisy.Count == 0 ? "no candidate's rounds span more than 20% of its median" : "NOISY: " + string.Join("; ", noisy));
        Console.WriteLine($"timed part: {total.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    private static string CpuInfo(string key) =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
}
