using System.Runtime.InteropServices;
using ClipService.Core.Imaging.TurboJpeg;
using SkiaSharp;

namespace ClipService.Core.Imaging;

/// <summary>
/// Defensive decoding of uploads to upright 8-bit RGB(A) with Skia (libjpeg-turbo for JPEG, so JPEGs decode as
/// PIL decodes them; JPEG pixels come from the system's libjpeg-turbo when it is there, see
/// <see cref="TurboJpegDecoder"/>): only JPEG, PNG, WebP, GIF (first frame), BMP and ICO; the header is read first and images
/// over the pixel cap are refused before any pixel is decoded; truncated or corrupt images are refused. EXIF
/// orientation is applied as PIL's <c>exif_transpose</c>; no colour management is done (PIL does none): embedded
/// ICC profiles and gAMA chunks are ignored. CMYK JPEGs are inverted as PIL's <c>convert("RGB")</c> does; 16-bit
/// samples are scaled to 8 bits. Thread-safe.
/// </summary>
public sealed class ClipImageDecoder
{
    public static readonly IReadOnlyList<string> SupportedFormats = ["JPEG", "PNG", "WebP", "GIF", "BMP", "ICO"];

    /// <summary><see cref="SupportedFormats"/> as prose, for API descriptions (attributes need a constant).</summary>
    public const string SupportedFormatNames = "JPEG, PNG, WebP, GIF (first frame), BMP or ICO";

    // The reductions libjpeg-turbo makes in the DCT that the fast path uses, largest first.
    private static readonly int[] JpegReductions = [8, 4, 2];

    private readonly ImageDecodingOptions _options;
    private readonly bool _turboJpeg;

    public ClipImageDecoder(ImageDecodingOptions? options = null)
    {
        _options = options ?? new ImageDecodingOptions();
        _turboJpeg = _options.UsesTurboJpeg;
    }

    public ImageDecodingOptions Options => _options;

    /// <param name="reducibleToShortSide">With <see cref="ImageDecodingOptions.FastJpegScaling"/>, a JPEG may be
    /// decoded at a reduced scale as long as its short side stays at least this long; 0: always full size.</param>
    public DecodedImage Decode(ReadOnlySpan<byte> encoded, int reducibleToShortSide = 0)
    {
        if (encoded.IsEmpty)
            throw new InvalidImageException(ImageProblem.Corrupt, "The image is empty (0 bytes).");

        using var data = SKData.CreateCopy(encoded);
        // The codec takes the stream over (and frees it, even when it cannot open it).
        using var codec = SKCodec.Create(new SKMemoryStream(data), out var opened);
        if (codec is null)
        {
            throw HasSupportedSignature(encoded)
                ? new InvalidImageException(ImageProblem.Corrupt, $"The image header is truncated or corrupt ({opened}).")
                : new InvalidImageException(ImageProblem.UnsupportedFormat, UnsupportedMessage);
        }

        var format = FormatName(codec.EncodedFormat)
            ?? throw new InvalidImageException(ImageProblem.UnsupportedFormat, UnsupportedMessage);
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
            throw new InvalidImageException(ImageProblem.Corrupt, $"The {format} header gives a size of {info.Width}×{info.Height}.");
        if ((long)info.Width * info.Height > _options.MaxPixels)
            throw new InvalidImageException(ImageProblem.TooLarge,
                $"The image is {info.Width}×{info.Height} pixels; at most {_options.MaxPixels:N0} pixels are accepted.");

        var size = DecodedSize(codec, reducibleToShortSide);
        var bytes = (long)size.Width * size.Height * DecodedImage.BytesPerPixel;
        if (bytes > (long)_options.AllocationLimitMegabytes << 20)
            throw new InvalidImageException(ImageProblem.TooLarge, "Decoding the image needs more memory than the service allows.");

        // A null colour space: Skia converts nothing (as PIL); unpremultiplied: colour under transparent alpha
        // survives, as PIL's convert("RGB") keeps it.
        var target = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
        var bitmap = new SKBitmap();
        try
        {
            if (!bitmap.TryAllocPixels(target))
                throw new InvalidImageException(ImageProblem.TooLarge, "Decoding the image needs more memory than the service allows.");
            var result = codec.EncodedFormat == SKEncodedImageFormat.Jpeg && _turboJpeg
                ? DecodeWithTurboJpeg(encoded, codec, target, bitmap)
                : codec.GetPixels(target, bitmap.GetPixels(), new SKCodecOptions(0));
            if (result == SKCodecResult.Success && codec.EncodedFormat == SKEncodedImageFormat.Jpeg && !EndsItsLastScan(encoded))
                result = SKCodecResult.IncompleteInput;
            if (result != SKCodecResult.Success)
            {
                throw new InvalidImageException(ImageProblem.Corrupt, result == SKCodecResult.IncompleteInput
                    ? $"The {format} image is truncated."
                    : $"The {format} image could not be decoded ({result}).");
            }

            return Orient(bitmap, codec.EncodedOrigin, (info.Width, info.Height));
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    // Skia read the header (format, size, orientation); the pixels come from the system's libjpeg-turbo, or from
    // Skia when TurboJPEG does not take the file or finds anything wrong with it (then Skia's verdict stands).
    private static SKCodecResult DecodeWithTurboJpeg(ReadOnlySpan<byte> encoded, SKCodec codec, SKImageInfo target, SKBitmap bitmap) =>
        TurboJpegDecoder.TryDecodeRgba(encoded, Writable(bitmap.GetPixelSpan()), bitmap.RowBytes, target.Width, target.Height)
            ? SKCodecResult.Success
            : codec.GetPixels(target, bitmap.GetPixels(), new SKCodecOptions(0));

    private static string UnsupportedMessage => $"The upload is not an image in a supported format ({string.Join(", ", SupportedFormats)}).";

    private static bool HasSupportedSignature(ReadOnlySpan<byte> encoded) =>
        encoded.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])                               // JPEG
        || encoded.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])       // PNG
        || encoded.StartsWith("GIF8"u8)
        || (encoded.StartsWith("RIFF"u8) && encoded.Length >= 12 && encoded[8..12].SequenceEqual("WEBP"u8))
        || encoded.StartsWith("BM"u8)
        || encoded.StartsWith((ReadOnlySpan<byte>)[0, 0, 1, 0]);                                 // ICO

    // libjpeg-turbo fills a progressive JPEG cut short with what the scans so far give and reports success;
    // PIL refuses it. A whole JPEG has its end-of-image marker after the start of its last scan (neither marker
    // can occur inside entropy-coded data; an EXIF thumbnail's markers come before the main image's scans).
    private static bool EndsItsLastScan(ReadOnlySpan<byte> encoded) =>
        encoded.LastIndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) > encoded.LastIndexOf((ReadOnlySpan<byte>)[0xFF, 0xDA]);

    private static string? FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => "JPEG",
        SKEncodedImageFormat.Png => "PNG",
        SKEncodedImageFormat.Webp => "WebP",
        SKEncodedImageFormat.Gif => "GIF",
        SKEncodedImageFormat.Bmp => "BMP",
        SKEncodedImageFormat.Ico => "ICO",
        _ => null,
    };

    private SKSizeI DecodedSize(SKCodec codec, int reducibleToShortSide)
    {
        var full = codec.Info.Size;
        if (!_options.FastJpegScaling || reducibleToShortSide <= 0 || codec.EncodedFormat != SKEncodedImageFormat.Jpeg)
            return full;
        foreach (var reduction in JpegReductions)
        {
            var scaled = codec.GetScaledDimensions(1f / reduction);
            if (Math.Min(scaled.Width, scaled.Height) >= reducibleToShortSide)
                return scaled;
        }

        return full;
    }

    /// <summary>Turns the decoded pixels upright as PIL's <c>exif_transpose</c> does (a new bitmap unless already upright).</summary>
    private static DecodedImage Orient(SKBitmap decoded, SKEncodedOrigin origin, (int Width, int Height) encodedSize)
    {
        var swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var fullSize = swaps ? (encodedSize.Height, encodedSize.Width) : encodedSize;
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default || !Enum.IsDefined(origin))
            return DecodedImage.FromBitmap(decoded, fullSize);

        var (w, h) = (decoded.Width, decoded.Height);
        var (outWidth, outHeight) = swaps ? (h, w) : (w, h);
        var upright = new SKBitmap();
        try
        {
            if (!upright.TryAllocPixels(decoded.Info.WithSize(outWidth, outHeight)))
                throw new InvalidImageException(ImageProblem.TooLarge, "Decoding the image needs more memory than the service allows.");
            var source = MemoryMarshal.Cast<byte, uint>(decoded.GetPixelSpan());
            var target = MemoryMarshal.Cast<byte, uint>(Writable(upright.GetPixelSpan()));
            for (var y = 0; y < outHeight; y++)
            {
                var row = target.Slice(y * outWidth, outWidth);
                // Where this output row starts in the source, and the source step from one output pixel to the next.
                var (start, step) = origin switch
                {
                    SKEncodedOrigin.TopRight => (y * w + w - 1, -1),                 // flip left-right
                    SKEncodedOrigin.BottomRight => ((h - 1 - y) * w + w - 1, -1),    // rotate 180°
                    SKEncodedOrigin.BottomLeft => ((h - 1 - y) * w, 1),              // flip top-bottom
                    SKEncodedOrigin.LeftTop => (y, w),                               // transpose
                    SKEncodedOrigin.RightTop => ((h - 1) * w + y, -w),               // rotate 90° clockwise
                    SKEncodedOrigin.RightBottom => ((h - 1) * w + w - 1 - y, -w),    // transverse
                    _ => (w - 1 - y, w),                                             // LeftBottom: rotate 90° anticlockwise
                };
                for (int x = 0, p = start; x < row.Length; x++, p += step)
                    row[x] = source[p];
            }

            decoded.Dispose();
            return DecodedImage.FromBitmap(upright, fullSize);
        }
        catch
        {
            upright.Dispose();
            throw;
        }
    }

    // Skia hands out pixel memory it owns as read-only; the bitmap was allocated here and is filled here.
    private static Span<byte> Writable(ReadOnlySpan<byte> pixels) =>
        MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(pixels), pixels.Length);
}
