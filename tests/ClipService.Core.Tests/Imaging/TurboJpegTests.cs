using ClipService.Core.Imaging;
using ClipService.Core.Imaging.TurboJpeg;
using SkiaSharp;
using Xunit.Abstractions;

namespace ClipService.Core.Tests.Imaging;

/// <summary>A theory that needs the system's libturbojpeg.so.0 (tools/install_test_tools.sh installs it): skipped, saying so, without it.</summary>
public sealed class TurboJpegTheoryAttribute : TheoryAttribute
{
    public TurboJpegTheoryAttribute()
    {
        if (TurboJpegDecoder.UnavailableReason is { } reason)
            Skip = $"{reason}; these tests compare the real library with Skia.";
    }
}

/// <summary>
/// JPEG pixels from the system's libjpeg-turbo (Clip:ImageDecoding:JpegDecoder) against Skia's: the library itself
/// decodes every JPEG of the reference set at every scale to Skia's bytes (no quiet fallback), and a damaged file
/// gets Skia's verdict and pixels (the library declines it). The parity tests against PIL run with the default
/// (Auto), which is this library wherever it is installed.
/// </summary>
public sealed class TurboJpegTests(ITestOutputHelper output)
{
    private static readonly ClipImageDecoder Skia = new(new ImageDecodingOptions { JpegDecoder = JpegDecoderChoice.Skia, FastJpegScaling = true });
    private static readonly ClipImageDecoder Turbo = new(new ImageDecodingOptions { JpegDecoder = JpegDecoderChoice.TurboJpeg, FastJpegScaling = true });

    public static TheoryData<string> Jpegs => [.. Directory.GetFiles(TestPaths.Asset("images"), "*.jpg").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

    [TurboJpegTheory]
    [MemberData(nameof(Jpegs))]
    public void Every_reference_jpeg_gives_skias_bytes_at_full_size_and_at_each_dct_scale(string name)
    {
        Assert.True(Turbo.Options.UsesTurboJpeg);
        Assert.False(Skia.Options.UsesTurboJpeg);
        var jpeg = File.ReadAllBytes(TestPaths.Asset("images", name));
        using var full = Skia.Decode(jpeg);
        var shortSide = Math.Min(full.Width, full.Height);
        // 0: full size; then the short side each reduction leaves (the decoder takes the largest that keeps it).
        foreach (var reducible in (int[])[0, (shortSide + 1) / 2, (shortSide + 3) / 4, (shortSide + 7) / 8])
        {
            using var expected = Skia.Decode(jpeg, reducible);
            using var actual = Turbo.Decode(jpeg, reducible);
            Assert.Equal((expected.Width, expected.Height, expected.FullSize), (actual.Width, actual.Height, actual.FullSize));
            Assert.True(expected.Pixels.SequenceEqual(actual.Pixels), $"{name} at {actual.Width}×{actual.Height}: pixels differ");
            output.WriteLine($"{name}: {actual.Width}×{actual.Height} identical");
        }
    }

    [TurboJpegTheory]
    [MemberData(nameof(Jpegs))]
    public void The_library_itself_decodes_each_reference_jpeg_to_skias_bytes_at_each_scale(string name)
    {
        var jpeg = File.ReadAllBytes(TestPaths.Asset("images", name));
        using var codec = SKCodec.Create(new SKMemoryStream(SKData.CreateCopy(jpeg)));
        foreach (var reduction in (int[])[1, 2, 4, 8])
        {
            var size = codec.GetScaledDimensions(1f / reduction);
            var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
            var skia = new byte[info.BytesSize];
            var turbo = new byte[info.BytesSize];
            var pinned = System.Runtime.InteropServices.GCHandle.Alloc(skia, System.Runtime.InteropServices.GCHandleType.Pinned);
            try
            {
                Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, pinned.AddrOfPinnedObject(), new SKCodecOptions(0)));
            }
            finally
            {
                pinned.Free();
            }

            Assert.True(TurboJpegDecoder.TryDecodeRgba(jpeg, turbo, info.RowBytes, size.Width, size.Height), $"{name} at 1/{reduction}: declined");
            Assert.True(skia.AsSpan().SequenceEqual(turbo), $"{name} at 1/{reduction}: pixels differ");
        }
    }

    [TurboJpegTheory]
    [InlineData("photo.jpg")]
    [InlineData("photo_progressive.jpg")]
    [InlineData("cmyk.jpg")]
    [InlineData("gray_jpeg.jpg")]
    public void Truncated_copies_are_refused_as_skia_refuses_them(string name)
    {
        var whole = File.ReadAllBytes(TestPaths.Asset("images", name));
        SKSizeI size;
        using (var codec = SKCodec.Create(new SKMemoryStream(SKData.CreateCopy(whole))))
            size = codec.Info.Size;
        for (var i = 1; i <= 48; i++)
        {
            var cut = whole[..(whole.Length * i / 49)];
            var (skiaProblem, skiaPixels) = Outcome(Skia, cut);
            var (turboProblem, turboPixels) = Outcome(Turbo, cut);
            Assert.True(skiaProblem == turboProblem, $"{name} cut at {cut.Length}: Skia {skiaProblem?.ToString() ?? "decoded"}, TurboJPEG {turboProblem?.ToString() ?? "decoded"}");
            Assert.Equal(ImageProblem.Corrupt, turboProblem);
            Assert.Null(skiaPixels ?? turboPixels);
            Assert.False(TurboJpegDecoder.TryDecodeRgba(cut, new byte[size.Width * size.Height * 4], size.Width * 4, size.Width, size.Height), $"{name} cut at {cut.Length}: TurboJPEG took it");
        }
    }

    /// <summary>Changed bytes: where libjpeg warns (or fails) TurboJPEG declines and Skia decides, so the verdict is
    /// Skia's (on its own, TurboJPEG decodes through some damage Skia stops at). Damage libjpeg does not notice can
    /// still decode differently (coefficients no encoder writes, where the SIMD and C IDCTs part; tables Skia's newer
    /// libjpeg-turbo reads otherwise), so the pixels of such a copy are not compared: it is garbage either way.</summary>
    [TurboJpegTheory]
    [InlineData("photo.jpg")]
    [InlineData("photo_progressive.jpg")]
    [InlineData("cmyk.jpg")]
    [InlineData("gray_jpeg.jpg")]
    public void Corrupted_copies_get_skias_verdict(string name)
    {
        var whole = File.ReadAllBytes(TestPaths.Asset("images", name));
        var random = new Random(31 + whole.Length); // fixed: the same copies on every run
        int refused = 0, identical = 0;
        const int Copies = 192;
        for (var i = 0; i < Copies; i++)
        {
            var mutated = (byte[])whole.Clone();
            for (var c = 1 + random.Next(6); c > 0; c--)
                mutated[8 + random.Next(mutated.Length - 8)] = (byte)random.Next(256);
            var (skiaProblem, skiaPixels) = Outcome(Skia, mutated);
            var (turboProblem, turboPixels) = Outcome(Turbo, mutated);
            Assert.True(skiaProblem == turboProblem, $"{name}, mutation {i}: Skia {skiaProblem?.ToString() ?? "decoded"}, with TurboJPEG {turboProblem?.ToString() ?? "decoded"}");
            refused += turboProblem is null ? 0 : 1;
            identical += skiaPixels is null || skiaPixels.AsSpan().SequenceEqual(turboPixels) ? 1 : 0;
        }

        output.WriteLine($"{name}: {refused} of {Copies} corrupted copies refused by both; {identical} identical");
        Assert.True(identical >= Copies * 3 / 4, $"{name}: only {identical} of {Copies} identical");
    }

    [TurboJpegTheory]
    [InlineData(99, true)]
    [InlineData(100, false)]
    public void A_file_with_100_scan_markers_or_more_is_left_to_skia_whose_limit_that_is(int markers, bool taken)
    {
        // photo_progressive.jpg has 10 scans; a comment segment after SOI carries extra SOS marker bytes, which only
        // over-counts: the file still decodes (by Skia) to the same pixels.
        var progressive = File.ReadAllBytes(TestPaths.Asset("images", "photo_progressive.jpg"));
        var scans = Enumerable.Range(0, progressive.Length - 1).Count(i => progressive[i] == 0xFF && progressive[i + 1] == 0xDA);
        var payload = Enumerable.Repeat((byte[])[0xFF, 0xDA], markers - scans).SelectMany(b => b).ToArray();
        byte[] comment = [0xFF, 0xFE, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];
        byte[] jpeg = [.. progressive[..2], .. comment, .. progressive[2..]];
        using var upright = Skia.Decode(jpeg);
        var buffer = new byte[upright.Width * upright.Height * 4];
        Assert.Equal(taken, TurboJpegDecoder.TryDecodeRgba(jpeg, buffer, upright.Width * 4, upright.Width, upright.Height));
        using var decoded = Turbo.Decode(jpeg);
        Assert.True(upright.Pixels.SequenceEqual(decoded.Pixels));
    }

    [Fact]
    public void A_missing_or_foreign_library_is_named_with_how_to_install_it()
    {
        if (!OperatingSystem.IsLinux())
            return;
        Assert.Contains("libno-such-turbojpeg.so.0 cannot be loaded (Debian: apt-get install libturbojpeg0", TurboJpegDecoder.Probe("libno-such-turbojpeg.so.0"), StringComparison.Ordinal);
        Assert.Contains("libc.so.6 lacks tjInitDecompress", TurboJpegDecoder.Probe("libc.so.6"), StringComparison.Ordinal);
    }

    private static (ImageProblem? Problem, byte[]? Pixels) Outcome(ClipImageDecoder decoder, byte[] encoded)
    {
        try
        {
            using var image = decoder.Decode(encoded);
            return (null, image.Pixels.ToArray());
        }
        catch (InvalidImageException e)
        {
            return (e.Problem, null);
        }
    }

    [TurboJpegTheory]
    [InlineData(JpegDecoderChoice.Auto, true)]
    [InlineData(JpegDecoderChoice.TurboJpeg, true)]
    [InlineData(JpegDecoderChoice.Skia, false)]
    public void The_setting_picks_the_library_and_validates_where_it_is_installed(JpegDecoderChoice choice, bool turbo)
    {
        var options = new ImageDecodingOptions { JpegDecoder = choice };
        Assert.Equal(turbo, options.UsesTurboJpeg);
        Assert.Contains(turbo ? "libturbojpeg.so.0" : "Skia", options.JpegLibrary, StringComparison.Ordinal);
        Assert.Empty(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));
    }
}
