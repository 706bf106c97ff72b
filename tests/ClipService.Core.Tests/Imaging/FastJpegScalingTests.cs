using ClipService.Core.Imaging;
using Xunit.Abstractions;

namespace ClipService.Core.Tests.Imaging;

/// <summary>
/// FastJpegScaling: its reading of a 12 MP photo is PIL's own reduced reading (<c>draft()</c> at 1/4, then the
/// full-size geometry), and what that costs against the exact path, which matches PIL's full decode bit for bit.
/// </summary>
public sealed class FastJpegScalingTests(ITestOutputHelper output)
{
    // Measured on the committed 12 MP photo, whose detail near the output's Nyquist frequency (a 300-cell
    // colour field under sensor noise) makes it a hard case: PIL's draft() gives the same 0.0037. The issue's
    // target of 0.003 was measured on other photos; see the README's Exactness section.
    private const double FastMeanAbsBound = 0.004;

    private static readonly PreprocessorSettings Settings = PreprocessorSettings.OpenAi(224);

    private static float[] FastTensor(string name)
    {
        var fast = new ClipImagePreprocessor(Settings, new ClipImageDecoder(new ImageDecodingOptions { FastJpegScaling = true }));
        var tensor = new float[fast.TensorLength];
        fast.Preprocess(File.ReadAllBytes(TestPaths.Asset("images", name)), tensor);
        return tensor;
    }

    [Fact]
    public void A_large_jpeg_is_read_as_pil_reads_it_after_draft()
    {
        var expected = PreprocessingParityTests.ExpectedTensor(TestPaths.Asset("preprocess", "photo_12mp.draft4.224.224.png"), Settings);
        var (max, _, exactBytes) = TensorDifference.Compare(expected, FastTensor("photo_12mp.jpg"), Settings);
        Assert.Equal(1.0, exactBytes);
        Assert.True(max <= 1e-5, $"max |Δ| {max}");
    }

    [Fact]
    public void The_reduced_decode_costs_little_against_the_exact_path()
    {
        var exact = PreprocessingParityTests.ExpectedTensor(TestPaths.Asset("preprocess", "photo_12mp.224.224.png"), Settings);
        var (max, mean, exactBytes) = TensorDifference.Compare(exact, FastTensor("photo_12mp.jpg"), Settings);
        output.WriteLine($"photo_12mp.jpg, FastJpegScaling against the exact path: max |Δ| = {max:F5}, mean |Δ| = {mean:F6}; bytes identical: {exactBytes:P2}");
        Assert.True(exactBytes < 1.0, "the 12 MP photo should have been decoded at reduced scale");
        Assert.True(mean <= FastMeanAbsBound, $"mean |Δ| {mean} > {FastMeanAbsBound}");
    }

    [Fact]
    public void A_jpeg_too_small_to_reduce_stays_exact()
    {
        // 640 × 480: halving would leave 240 rows, under twice 224.
        var exact = PreprocessingParityTests.ExpectedTensor(TestPaths.Asset("preprocess", "photo.224.224.png"), Settings);
        var (_, _, exactBytes) = TensorDifference.Compare(exact, FastTensor("photo.jpg"), Settings);
        Assert.Equal(1.0, exactBytes);
    }
}
