using System.Text.Json;
using ClipService.Core.Imaging;
using Xunit.Abstractions;

namespace ClipService.Core.Tests.Imaging;

/// <summary>
/// The C# preprocessing against PIL's (tools/make_preprocess_references.py), in normalised units.
/// Lossless sources must match PIL bit for bit: decoding is exact, so any difference is the resampler's.
/// Lossy sources (JPEG in every subsampling, progressive, greyscale, CMYK, all EXIF orientations, odd sizes,
/// 12 megapixels; lossy WebP) are decoded by the same libraries as PIL's (libjpeg-turbo, libwebp) and are held
/// to the target: max 0.02 and mean 0.002 normalised units (one 8-bit level is about 0.015).
/// </summary>
public sealed class PreprocessingParityTests(ITestOutputHelper output)
{
    private const double MaxAbsTarget = 0.02;
    private const double MeanAbsTarget = 0.002;

    public sealed record ParityCase(string Image, int ShortestEdge, int Crop, string Reference, bool Lossy);

    public static TheoryData<string> CaseNames => new(Cases.Value.Select(c => $"{c.Image}@{c.ShortestEdge}/{c.Crop}"));

    private static readonly Lazy<IReadOnlyList<ParityCase>> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Asset("preprocess", "manifest.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => new ParityCase(c.GetProperty("image").GetString()!, c.GetProperty("shortest_edge").GetInt32(),
                c.GetProperty("crop").GetInt32(), c.GetProperty("reference").GetString()!, c.GetProperty("lossy").GetBoolean()))
            .ToList();
    });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Matches_pil_within_the_target(string caseName)
    {
        var c = Cases.Value.Single(x => $"{x.Image}@{x.ShortestEdge}/{x.Crop}" == caseName);
        var settings = PreprocessorSettings.OpenAi(c.ShortestEdge) with { CropHeight = c.Crop, CropWidth = c.Crop };
        var preprocessor = new ClipImagePreprocessor(settings);
        var actual = new float[preprocessor.TensorLength];
        preprocessor.Preprocess(File.ReadAllBytes(TestPaths.Asset("images", c.Image)), actual);

        var expected = ExpectedTensor(TestPaths.Asset("preprocess", c.Reference), settings);
        var (max, mean, exactBytes) = TensorDifference.Compare(expected, actual, settings);
        output.WriteLine($"{caseName}: max |Δ| = {max:F5}, mean |Δ| = {mean:F6} (normalised units); bytes identical: {exactBytes:P2}");
        if (c.Lossy)
        {
            Assert.True(max <= MaxAbsTarget, $"max |Δ| {max} > {MaxAbsTarget}");
            Assert.True(mean <= MeanAbsTarget, $"mean |Δ| {mean} > {MeanAbsTarget}");
        }
        else
        {
            Assert.Equal(1.0, exactBytes);
            Assert.True(max <= 1e-5, $"max |Δ| {max}");
        }
    }

    public static TheoryData<string> SquashCaseNames => new(SquashCases().Select(c => c.Name));

    private static IEnumerable<(string Name, string Image, int Width, int Height, ResampleFilter Filter, string Reference, bool Lossy)> SquashCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Asset("preprocess", "manifest.json")));
        return [.. doc.RootElement.GetProperty("squash_cases").EnumerateArray().Select(c =>
        {
            var resample = c.GetProperty("resample").GetInt32();
            var image = c.GetProperty("image").GetString()!;
            var (width, height) = (c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32());
            return ($"{image}@{width}x{height}/r{resample}", image, width, height, resample == 2 ? ResampleFilter.Bilinear : ResampleFilter.Bicubic,
                c.GetProperty("reference").GetString()!, c.GetProperty("lossy").GetBoolean());
        })];
    }

    /// <summary>SigLIP's and open_clip's squash (size {height, width}, no crop), bicubic and bilinear, against PIL's resize.</summary>
    [Theory]
    [MemberData(nameof(SquashCaseNames))]
    public void Squashing_to_a_size_matches_pil(string caseName)
    {
        var c = SquashCases().Single(x => x.Name == caseName);
        var settings = PreprocessorSettings.OpenAi(224) with
        {
            ResizeToExact = (c.Height, c.Width), CenterCrop = false, CropHeight = c.Height, CropWidth = c.Width, Filter = c.Filter,
        };
        var preprocessor = new ClipImagePreprocessor(settings);
        var actual = new float[preprocessor.TensorLength];
        preprocessor.Preprocess(File.ReadAllBytes(TestPaths.Asset("images", c.Image)), actual);

        var expected = ExpectedTensor(TestPaths.Asset("preprocess", c.Reference), settings);
        var (max, mean, exactBytes) = TensorDifference.Compare(expected, actual, settings);
        output.WriteLine($"{caseName}: max |Δ| = {max:F5}, mean |Δ| = {mean:F6}; bytes identical: {exactBytes:P2}");
        if (c.Lossy)
            Assert.True(max <= MaxAbsTarget && mean <= MeanAbsTarget, $"max |Δ| {max}, mean {mean}");
        else
            Assert.Equal(1.0, exactBytes);
    }

    [Fact]
    public void Rescale_and_normalise_match_the_float_tensor_numpy_computes()
    {
        // PIL's crop of the same image, fed through the C# normalisation, must equal numpy's float tensor.
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Asset("preprocess", "tensor_photo_64.json")));
        var expected = doc.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var preprocessor = new ClipImagePreprocessor(PreprocessorSettings.OpenAi(64) with { Resize = false });
        var actual = new float[preprocessor.TensorLength];
        using var pilCrop = new ClipImageDecoder().Decode(File.ReadAllBytes(TestPaths.Asset("preprocess", "photo.64.64.png")));
        preprocessor.Preprocess(pilCrop, actual);

        Assert.Equal(expected.Length, actual.Length);
        var diffs = expected.Zip(actual, (e, a) => Math.Abs(e - a)).ToArray();
        output.WriteLine($"normalisation: max |Δ| = {diffs.Max():E2}");
        Assert.True(diffs.Max() <= 1e-6, $"max |Δ| {diffs.Max()}");
    }

    [Fact]
    public void Centre_crop_offsets_round_half_to_even_like_torchvision()
    {
        var preprocessor = new ClipImagePreprocessor(PreprocessorSettings.OpenAi(67) with { CropHeight = 64, CropWidth = 64 });
        // A 67-pixel-wide ramp: the crop must start at column round(1.5) = 2, not floor(1.5) = 1.
        var pixels = new byte[67 * 67 * DecodedImage.BytesPerPixel];
        for (var i = 0; i < 67 * 67; i++)
            pixels[i * DecodedImage.BytesPerPixel] = (byte)(i % 67 * 3);
        using var image = DecodedImage.FromRgba(pixels, 67, 67);
        var tensor = new float[preprocessor.TensorLength];
        preprocessor.Preprocess(image, tensor);
        var firstRed = tensor[0] * PreprocessorSettings.OpenAiStd[0] + PreprocessorSettings.OpenAiMean[0];
        Assert.Equal(6 / 255f, firstRed, 4);
    }

    internal static float[] ExpectedTensor(string referencePng, PreprocessorSettings settings)
    {
        // The reference is a lossless PNG: decoding it is exact, so it can be read with the decoder under test.
        using var reference = new ClipImageDecoder().Decode(File.ReadAllBytes(referencePng));
        var plane = reference.Width * reference.Height;
        var tensor = new float[3 * plane];
        var pixels = reference.Pixels;
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
                tensor[c * plane + i] = (pixels[i * DecodedImage.BytesPerPixel + c] / 255f - settings.Mean[c]) / settings.Std[c];
        }

        return tensor;
    }
}
