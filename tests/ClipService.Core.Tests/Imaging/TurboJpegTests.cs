using ClipService.Core.Imaging;
using ClipService.Core.Imaging.TurboJpeg;
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
/// JPEG pixels from the system's libjpeg-turbo (Clip:ImageDecoding:JpegDecoder) against Skia's: the same bytes for
/// every JPEG of the reference set at every scale, and truncated files refused as Skia refuses them. The parity tests against PIL run with the default (Auto),
/// which is this library wherever it is installed.
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
    [InlineData("photo.jpg")]
    [InlineData("photo_progressive.jpg")]
    [InlineData("cmyk.jpg")]
    [InlineData("gray_jpeg.jpg")]
    public void Truncated_copies_are_refused_as_skia_refuses_them(string name)
    {
        var whole = File.ReadAllBytes(TestPaths.Asset("images", name));
        for (var i = 1; i <= 48; i++)
        {
            var cut = whole[..(whole.Length * i / 49)];
            var (skiaProblem, skiaPixels) = Outcome(Skia, cut);
            var (turboProblem, turboPixels) = Outcome(Turbo, cut);
            Assert.True(skiaProblem == turboProblem, $"{name} cut at {cut.Length}: Skia {skiaProblem?.ToString() ?? "decoded"}, TurboJPEG {turboProblem?.ToString() ?? "decoded"}");
            Assert.Equal(ImageProblem.Corrupt, turboProblem);
            Assert.Null(skiaPixels ?? turboPixels);
        }
    }

    /// <summary>Bytes changed inside the entropy-coded data are decoded past (libjpeg warns and goes on, as PIL
    /// does), and there the two libraries may differ: Skia reads by scanlines and stops filling at some errors that
    /// a whole-image decode decodes through. Either way the verdict is a decoded image or a typed refusal.</summary>
    [TurboJpegTheory]
    [InlineData("photo.jpg")]
    [InlineData("photo_progressive.jpg")]
    [InlineData("cmyk.jpg")]
    [InlineData("gray_jpeg.jpg")]
    public void Corrupted_copies_decode_or_are_refused_with_a_typed_problem(string name)
    {
        var whole = File.ReadAllBytes(TestPaths.Asset("images", name));
        var random = new Random(HashCode.Combine(31, whole.Length));
        int refused = 0, agreed = 0;
        for (var i = 0; i < 48; i++)
        {
            var mutated = (byte[])whole.Clone();
            for (var c = 1 + random.Next(6); c > 0; c--)
                mutated[8 + random.Next(mutated.Length - 8)] = (byte)random.Next(256);
            var (skiaProblem, skiaPixels) = Outcome(Skia, mutated);
            var (turboProblem, turboPixels) = Outcome(Turbo, mutated);
            refused += turboProblem is null ? 0 : 1;
            agreed += skiaProblem == turboProblem && (skiaPixels is null || skiaPixels.AsSpan().SequenceEqual(turboPixels)) ? 1 : 0;
        }

        output.WriteLine($"{name}: TurboJPEG refused {refused} of 48 corrupted copies; same verdict and pixels as Skia on {agreed}");
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
