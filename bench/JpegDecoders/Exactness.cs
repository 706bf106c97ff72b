using System.Text.Json;
using ClipService.Core.Imaging;

namespace JpegDecoders;

/// <summary>Byte comparison of two pixel buffers of the same layout.</summary>
internal readonly record struct Diff(bool SameSize, long Differing, int MaxAbs)
{
    public bool Identical => SameSize && Differing == 0;

    public static Diff Of(RawImage a, RawImage b) =>
        a.Width != b.Width || a.Height != b.Height ? new Diff(false, 0, 0) : Of(a.Rgba, b.Rgba);

    public static Diff Of(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
            return new Diff(false, 0, 0);
        long differing = 0;
        var max = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = Math.Abs(a[i] - b[i]);
            if (d != 0)
            {
                differing++;
                max = Math.Max(max, d);
            }
        }

        return new Diff(true, differing, max);
    }

    /// <summary>Where sizes differ: the common top-left region of the two images.</summary>
    public static string Overlap(RawImage a, RawImage b)
    {
        var (w, h) = (Math.Min(a.Width, b.Width), Math.Min(a.Height, b.Height));
        var (x, y) = (new byte[w * h * 4], new byte[w * h * 4]);
        for (var row = 0; row < h; row++)
        {
            a.Rgba.AsSpan(row * a.Width * 4, w * 4).CopyTo(x.AsSpan(row * w * 4));
            b.Rgba.AsSpan(row * b.Width * 4, w * 4).CopyTo(y.AsSpan(row * w * 4));
        }

        return $"{a.Width}×{a.Height} vs {b.Width}×{b.Height}; common {w}×{h}: {(Of(x, y).Identical ? "identical" : Of(x, y).ToString())}";
    }

    public override string ToString() => !SameSize ? "NO (size differs)" : Differing == 0 ? "yes" : $"NO (max {MaxAbs}, {Differing} B)";
}

internal static class Exactness
{
    private static readonly int[] ScaledReductions = [2, 4, 8];

    private sealed record Case(string Name, string Image, PreprocessorSettings Settings, string Reference, int Reduction);

    public static int Run()
    {
        VipsRaw.Configure();
        var cases = LoadCases();
        Console.WriteLine($"{Environment.NewLine}## Per case: raw decode (before orientation) vs Skia's raw decode; crop through the service's Orient + ClipImagePreprocessor vs PIL's reference PNG{Environment.NewLine}");
        Console.WriteLine("| case | Skia (service path) = PIL | turbo raw = Skia | turbo crop = PIL | vips raw = Skia | vips crop = PIL |");
        Console.WriteLine("|---|---|---|---|---|---|");
        var allTurbo = true;
        var allVips = true;
        foreach (var c in cases)
        {
            var jpeg = File.ReadAllBytes(Inputs.Asset("images", c.Image));
            var reference = ReferenceRgb(Inputs.Asset("preprocess", c.Reference));
            var service = new ClipImagePreprocessor(Unscaled(c.Settings),
                new ClipImageDecoder(new ImageDecodingOptions { FastJpegScaling = c.Reduction > 1 }));
            var serviceCrop = CropOf(service, t => service.Preprocess(jpeg, t));
            var (skia, origin, encodedSize) = SkiaRaw.Decode(jpeg, c.Reduction);
            // The reduction the service picks must be the one the case names.
            using (var decoded = service.Decoder.Decode(jpeg, c.Reduction > 1 ? service.ReducibleToShortSide : 0))
            {
                if ((long)decoded.Width * decoded.Height != (long)skia.Width * skia.Height)
                    throw new InvalidOperationException($"{c.Name}: the service decoded at {decoded.Width}×{decoded.Height} of {decoded.FullSize}");
            }

            var skiaCrop = UprightCrop(skia, origin, encodedSize, service);
            if (!Diff.Of(skiaCrop, serviceCrop).Identical)
                throw new InvalidOperationException($"{c.Name}: Skia raw + Orient differs from the service's own path");

            var turboRaw = TurboRaw.Decode(jpeg, c.Reduction);
            var (vipsRaw, _) = VipsRaw.DecodeRgba(jpeg, c.Reduction);
            var turboRawDiff = Diff.Of(turboRaw, skia);
            var vipsRawDiff = Diff.Of(vipsRaw, skia);
            var turboCrop = Diff.Of(UprightCrop(turboRaw, origin, encodedSize, service), reference);
            var vipsCrop = Diff.Of(UprightCrop(vipsRaw, origin, encodedSize, service), reference);
            allTurbo &= turboRawDiff.Identical;
            allVips &= vipsRawDiff.Identical;
            Console.WriteLine($"| {c.Name} | {Diff.Of(serviceCrop, reference)} | {turboRawDiff} | {turboCrop} | {vipsRawDiff} | {vipsCrop} |");
        }

        ScaledDecodes();
        Notes();
        Console.WriteLine($"{Environment.NewLine}per-case table: turbo raw identical to Skia in every case: {allTurbo}; vips: {allVips}");
        return 0;
    }

    /// <summary>Every JPEG at 1/2, 1/4, 1/8 (and the 1080p timing input at full size too): raw pixels vs Skia's.</summary>
    private static void ScaledDecodes()
    {
        Console.WriteLine($"{Environment.NewLine}## DCT-scaled decodes, raw pixels vs Skia's at the same scale{Environment.NewLine}");
        Console.WriteLine("| image | scale | size | turbo = Skia | vips = Skia |");
        Console.WriteLine("|---|---|---|---|---|");
        var photo = Inputs.Photo12Mp();
        var images = Directory.GetFiles(Inputs.Asset("images"), "*.jpg").Order(StringComparer.Ordinal)
            .Select(p => (Name: Path.GetFileName(p), Bytes: File.ReadAllBytes(p), Reductions: ScaledReductions))
            .Append(("photo_12mp.jpg → 1080p crop, q90 (timing input)", Inputs.Crop1080p(photo), [1, 2, 4, 8]));
        foreach (var (name, jpeg, reductions) in images)
        {
            foreach (var r in reductions)
            {
                var (skia, _, _) = SkiaRaw.Decode(jpeg, r);
                var turboRaw = TurboRaw.Decode(jpeg, r);
                var (vipsRaw, _) = VipsRaw.DecodeRgba(jpeg, r);
                var vipsDiff = Diff.Of(vipsRaw, skia);
                var vipsCell = vipsDiff.SameSize ? vipsDiff.ToString() : $"NO: size {Diff.Overlap(vipsRaw, skia)}";
                Console.WriteLine($"| {name} | 1/{r} | {skia.Width}×{skia.Height} | {Diff.Of(turboRaw, skia)} | {vipsCell} |");
            }
        }
    }

    private static void Notes()
    {
        Console.WriteLine($"{Environment.NewLine}## Notes{Environment.NewLine}");
        foreach (var name in new[] { "cmyk.jpg", "gray_jpeg.jpg", "photo.jpg" })
        {
            var jpeg = File.ReadAllBytes(Inputs.Asset("images", name));
            var (_, bands) = VipsRaw.DecodeRgba(jpeg, 1);
            Console.WriteLine($"- {name}: libvips gives {bands}");
        }

        var cmyk = File.ReadAllBytes(Inputs.Asset("images", "cmyk.jpg"));
        var (skiaCmyk, _, _) = SkiaRaw.Decode(cmyk, 1);
        Console.WriteLine($"- cmyk.jpg through libvips' own colourspace(srgb) (ICC) instead of the formula: = Skia {Diff.Of(VipsRaw.DecodeViaColourspace(cmyk), skiaCmyk)}");
        var orientations = Directory.GetFiles(Inputs.Asset("images"), "*.jpg").Order(StringComparer.Ordinal)
            .Select(p => (Path.GetFileName(p), File.ReadAllBytes(p)))
            .Where(x => x.Item1.StartsWith("orientation_", StringComparison.Ordinal) || x.Item1 == "exif_rotated.jpg")
            .Select(x => $"{x.Item1}: Skia {(int)SkiaRaw.Decode(x.Item2, 8).Origin}, vips {VipsRaw.Orientation(x.Item2)}");
        Console.WriteLine($"- EXIF orientation (Skia's EncodedOrigin vs libvips' 'orientation' field): {string.Join("; ", orientations)}");
        var c1080 = Inputs.Crop1080p(Inputs.Photo12Mp());
        var (w, h) = TurboRaw.Size(c1080, 1);
        Console.WriteLine($"- 1080p timing input: {c1080.Length:N0} bytes, {w}×{h}");
        Console.WriteLine($"- {VipsRaw.Version}; SkiaSharp native {SkiaSharp.SkiaSharpVersion.Native}");
    }

    private static List<Case> LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Inputs.Asset("preprocess", "manifest.json")));
        var cases = new List<Case>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var image = c.GetProperty("image").GetString()!;
            if (!image.EndsWith(".jpg", StringComparison.Ordinal))
                continue;
            var (edge, crop) = (c.GetProperty("shortest_edge").GetInt32(), c.GetProperty("crop").GetInt32());
            cases.Add(new Case($"{image}@{edge}/{crop}", image, PreprocessorSettings.OpenAi(edge) with { CropHeight = crop, CropWidth = crop },
                c.GetProperty("reference").GetString()!, 1));
        }

        foreach (var c in doc.RootElement.GetProperty("squash_cases").EnumerateArray())
        {
            var image = c.GetProperty("image").GetString()!;
            if (!image.EndsWith(".jpg", StringComparison.Ordinal))
                continue;
            var (w, h, resample) = (c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(), c.GetProperty("resample").GetInt32());
            var settings = PreprocessorSettings.OpenAi(224) with
            {
                ResizeToExact = (h, w), CenterCrop = false, CropHeight = h, CropWidth = w,
                Filter = resample == 2 ? ResampleFilter.Bilinear : ResampleFilter.Bicubic,
            };
            cases.Add(new Case($"{image} squash {w}x{h} r{resample}", image, settings, c.GetProperty("reference").GetString()!, 1));
        }

        // FastJpegScaling's reference: PIL's draft at 1/4, geometry from the full size.
        cases.Add(new Case("photo_12mp.jpg@224/224 at 1/4 (draft4)", "photo_12mp.jpg", PreprocessorSettings.OpenAi(224),
            "photo_12mp.draft4.224.224.png", 4));
        return cases;
    }

    // No rescale, no normalisation: the tensor holds the crop's byte values.
    private static PreprocessorSettings Unscaled(PreprocessorSettings s) => s with { Rescale = false, Normalize = false };

    private static byte[] UprightCrop(RawImage raw, SkiaSharp.SKEncodedOrigin origin, (int Width, int Height) encodedSize, ClipImagePreprocessor preprocessor)
    {
        using var image = SkiaRaw.Upright(raw, origin, encodedSize);
        return CropOf(preprocessor, t => preprocessor.Preprocess(image, t));
    }

    private static byte[] CropOf(ClipImagePreprocessor preprocessor, Action<float[]> fill)
    {
        var tensor = new float[preprocessor.TensorLength];
        fill(tensor);
        var plane = preprocessor.Height * preprocessor.Width;
        var rgb = new byte[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                var v = tensor[c * plane + i];
                if (v != MathF.Round(v) || v is < 0 or > 255)
                    throw new InvalidOperationException($"tensor value {v} is not a byte");
                rgb[i * 3 + c] = (byte)v;
            }
        }

        return rgb;
    }

    private static byte[] ReferenceRgb(string png)
    {
        using var decoded = new ClipImageDecoder().Decode(File.ReadAllBytes(png));
        var pixels = decoded.Pixels;
        var rgb = new byte[decoded.Width * decoded.Height * 3];
        for (var i = 0; i < decoded.Width * decoded.Height; i++)
        {
            rgb[i * 3] = pixels[i * 4];
            rgb[i * 3 + 1] = pixels[i * 4 + 1];
            rgb[i * 3 + 2] = pixels[i * 4 + 2];
        }

        return rgb;
    }
}
