using System.Buffers;
using BenchmarkDotNet.Attributes;
using ClipService.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ClipService.Benchmarks;

/// <summary>
/// One image from JPEG bytes to its 224² tensor in a batch, one thread, on a 1080p and a 12 MP photo (the
/// committed test photo, and a 1920×1080 crop of it re-encoded at quality 90):
/// <list type="bullet">
/// <item>the previous path: ImageSharp decodes (as the previous <c>ClipImageDecoder</c> did), the image is
/// preprocessed into a per-request pooled tensor, which is then copied into the batch;</item>
/// <item>the exact path: Skia decodes at full size and the tensor is written straight into the batch slot;</item>
/// <item>the fast path: the same with <c>FastJpegScaling</c> (1/2 scale for 1080p, 1/4 for 12 MP).</item>
/// </list>
/// Each path is also split in two: Skia's decode alone, and the resampling and normalising of decoded pixels alone.
/// </summary>
[MemoryDiagnoser]
public class ImageDecodingBenchmarks
{
    private static readonly PreprocessorSettings Settings = PreprocessorSettings.OpenAi(224);
    private readonly ClipImagePreprocessor _exact = new(Settings);
    private readonly ClipImagePreprocessor _fast = new(Settings, new ClipImageDecoder(new ImageDecodingOptions { FastJpegScaling = true }));
    private readonly float[] _batch = new float[4 * 3 * 224 * 224];
    private byte[] _jpeg = [];
    private DecodedImage? _decodedFull;
    private DecodedImage? _decodedReduced;

    [Params("1080p", "12MP")]
    public string Photo { get; set; } = "12MP";

    private Span<float> Slot => _batch.AsSpan(2 * _exact.TensorLength, _exact.TensorLength);

    [GlobalSetup]
    public void Setup()
    {
        var photo = File.ReadAllBytes(Path.Combine(RepositoryRoot(), "tests", "assets", "images", "photo_12mp.jpg"));
        _jpeg = Photo == "12MP" ? photo : Crop1080p(photo);
        _decodedFull = _exact.Decoder.Decode(_jpeg);
        _decodedReduced = _fast.Decoder.Decode(_jpeg, _fast.ReducibleToShortSide);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _decodedFull?.Dispose();
        _decodedReduced?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ImageSharp, pooled tensor + copy")]
    public float ImageSharpThenCopy()
    {
        using var image = SixLabors.ImageSharp.Image.Load<Rgb24>(_jpeg);
        image.Mutate(x => x.AutoOrient());
        var rgba = ArrayPool<byte>.Shared.Rent(image.Width * image.Height * DecodedImage.BytesPerPixel);
        var tensor = ArrayPool<float>.Shared.Rent(_exact.TensorLength);
        try
        {
            using var converted = image.CloneAs<Rgba32>();
            converted.CopyPixelDataTo(rgba);
            using var decoded = DecodedImage.FromRgba(rgba, image.Width, image.Height);
            _exact.Preprocess(decoded, tensor);
            tensor.AsSpan(0, _exact.TensorLength).CopyTo(Slot);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tensor);
            ArrayPool<byte>.Shared.Return(rgba);
        }

        return _batch[0];
    }

    [Benchmark(Description = "Skia exact, into the slot")]
    public float SkiaExact()
    {
        _exact.Preprocess(_jpeg, Slot);
        return _batch[0];
    }

    [Benchmark(Description = "Skia FastJpegScaling, into the slot")]
    public float SkiaFast()
    {
        _fast.Preprocess(_jpeg, Slot);
        return _batch[0];
    }

    [Benchmark(Description = "Skia exact, decode only")]
    public int SkiaExactDecodeOnly()
    {
        using var image = _exact.Decoder.Decode(_jpeg);
        return image.Width;
    }

    [Benchmark(Description = "Skia FastJpegScaling, decode only")]
    public int SkiaFastDecodeOnly()
    {
        using var image = _fast.Decoder.Decode(_jpeg, _fast.ReducibleToShortSide);
        return image.Width;
    }

    [Benchmark(Description = "resample + normalise only, full-size pixels")]
    public float ResampleExact()
    {
        _exact.Preprocess(_decodedFull!, Slot);
        return _batch[0];
    }

    [Benchmark(Description = "resample + normalise only, reduced pixels")]
    public float ResampleFast()
    {
        _fast.Preprocess(_decodedReduced!, Slot);
        return _batch[0];
    }

    private static byte[] Crop1080p(byte[] photo)
    {
        using var image = SixLabors.ImageSharp.Image.Load<Rgb24>(photo);
        image.Mutate(x => x.Resize(1920, 1440).Crop(new Rectangle(0, 180, 1920, 1080)));
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipService.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"No ClipService.sln above {AppContext.BaseDirectory}.");
    }
}
