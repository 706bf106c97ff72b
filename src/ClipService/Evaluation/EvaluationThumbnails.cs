using ClipService.Core.Imaging;
using SkiaSharp;

namespace ClipService.Evaluation;

/// <summary>Small JPEG thumbnails of evaluated images, as data URIs for report.html. Thread-safe.</summary>
/// <param name="dataFolder">The --data folder the report's paths are relative to.</param>
public sealed class EvaluationThumbnails(string dataFolder)
{
    /// <summary>The box a thumbnail fits in, aspect kept.</summary>
    public const int Size = 96;

    private const int Quality = 70;

    private readonly string _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataFolder)) + Path.DirectorySeparatorChar;

    // The service's own decoder: upright (EXIF), capped, and JPEGs reduced in the DCT, which is most of the speed.
    private readonly ClipImageDecoder _decoder = new(new ImageDecodingOptions { FastJpegScaling = true });

    /// <summary>A <c>data:image/jpeg;base64,...</c> URI, or null when the file is outside the folder or cannot be decoded.</summary>
    /// <param name="relativePath">'/'-separated, relative to the data folder.</param>
    public string? DataUri(string relativePath)
    {
        try
        {
            return Resolve(relativePath) is { } path ? Encode(File.ReadAllBytes(path)) : null;
        }
        catch (Exception)
        {
            // A report is still worth writing when one picture of it is not: the page shows the path instead.
            return null;
        }
    }

    private string? Resolve(string relativePath)
    {
        if (relativePath.Length == 0 || Path.IsPathRooted(relativePath)
            || relativePath.Split('/', '\\').Any(segment => segment == ".."))
            return null;
        var full = Path.GetFullPath(Path.Combine(_root, relativePath));
        return full.StartsWith(_root, StringComparison.Ordinal) ? full : null;
    }

    private string Encode(byte[] encoded)
    {
        using var image = _decoder.Decode(encoded, reducibleToShortSide: Size);
        var scale = Math.Min(1.0, (double)Size / Math.Max(image.Width, image.Height));
        var width = Math.Max(1, (int)Math.Round(image.Width * scale));
        var height = Math.Max(1, (int)Math.Round(image.Height * scale));

        using var source = SKImage.FromPixelCopy(
            new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), image.Pixels);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        // JPEG has no alpha: transparent parts show as white, as a browser shows them on this page.
        surface.Canvas.Clear(SKColors.White);
        // Mipmaps: a PNG several times the box would alias with a plain linear filter.
        surface.Canvas.DrawImage(source, new SKRect(0, 0, width, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        using var snapshot = surface.Snapshot();
        using var jpeg = snapshot.Encode(SKEncodedImageFormat.Jpeg, Quality);
        return "data:image/jpeg;base64," + Convert.ToBase64String(jpeg.AsSpan());
    }
}
