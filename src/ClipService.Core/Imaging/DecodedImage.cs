using SkiaSharp;

namespace ClipService.Core.Imaging;

/// <summary>
/// An upright decoded image: packed rows of 4-byte RGBA pixels (alpha unpremultiplied, ignored by the
/// preprocessing as PIL's <c>convert("RGB")</c> ignores it). Owns its pixel memory: native memory from Skia,
/// given back to the system on <see cref="Dispose"/> rather than kept in a pool.
/// </summary>
public sealed class DecodedImage : IDisposable
{
    public const int BytesPerPixel = 4;

    private readonly SKBitmap? _bitmap;
    private readonly byte[]? _array;

    private DecodedImage(int width, int height, (int Width, int Height) fullSize, SKBitmap? bitmap, byte[]? array)
    {
        Width = width;
        Height = height;
        FullSize = fullSize;
        _bitmap = bitmap;
        _array = array;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The upright size of the encoded image; larger than <see cref="Width"/> × <see cref="Height"/> when
    /// it was decoded at a reduced scale, so geometry (resize target, crop) is computed as for the full image.</summary>
    public (int Width, int Height) FullSize { get; }

    public ReadOnlySpan<byte> Pixels => _array ?? (ReadOnlySpan<byte>)_bitmap!.GetPixelSpan();

    /// <summary>Wraps packed RGBA rows (tests, and decoders that produce managed pixels).</summary>
    public static DecodedImage FromRgba(byte[] pixels, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels.Length, width * height * BytesPerPixel, nameof(pixels));
        return new DecodedImage(width, height, (width, height), null, pixels);
    }

    internal static DecodedImage FromBitmap(SKBitmap bitmap, (int Width, int Height) fullSize) =>
        new(bitmap.Width, bitmap.Height, fullSize, bitmap, null);

    public void Dispose() => _bitmap?.Dispose();
}
