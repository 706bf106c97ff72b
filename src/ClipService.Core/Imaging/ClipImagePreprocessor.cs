using System.Buffers;

namespace ClipService.Core.Imaging;

/// <summary>
/// CLIP's image preprocessing as PIL computes it: resize (shortest side to N, long side truncated) with PIL's
/// filter, centre crop (offsets rounded half to even, as torchvision's CenterCrop; zero padding where the crop
/// is larger), rescale and normalise, written channels-first into a caller's span so a batch fills in place.
/// Thread-safe.
/// </summary>
public sealed class ClipImagePreprocessor
{
    private readonly float[] _lookup;

    public ClipImagePreprocessor(PreprocessorSettings settings, ClipImageDecoder? decoder = null)
    {
        Settings = settings;
        Decoder = decoder ?? new ClipImageDecoder();
        (Height, Width) = settings.OutputSize;
        _lookup = BuildLookup(settings);
    }

    public PreprocessorSettings Settings { get; }
    public ClipImageDecoder Decoder { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Floats one image occupies: 3 × height × width.</summary>
    public int TensorLength => 3 * Height * Width;

    /// <summary>Decodes <paramref name="encodedImage"/> and writes its tensor into <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidImageException">The image cannot be used (unsupported, corrupt, too large).</exception>
    public void Preprocess(ReadOnlySpan<byte> encodedImage, Span<float> destination)
    {
        using var image = Decoder.Decode(encodedImage, ReducibleToShortSide);
        Preprocess(image, destination);
    }

    public void Preprocess(DecodedImage image, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, TensorLength, nameof(destination));
        // Geometry from the full-size image: a JPEG decoded at reduced scale is cropped exactly as at full size.
        var (resizedWidth, resizedHeight) = ResizedSize(image.FullSize.Width, image.FullSize.Height);
        int left = 0, top = 0;
        if (Settings.CenterCrop)
        {
            left = (int)Math.Round((resizedWidth - Width) / 2.0, MidpointRounding.ToEven);
            top = (int)Math.Round((resizedHeight - Height) / 2.0, MidpointRounding.ToEven);
        }

        // The part of the crop that lies inside the resized image; the rest is zero padding.
        var x0 = Math.Max(left, 0);
        var y0 = Math.Max(top, 0);
        var x1 = Math.Min(left + Width, resizedWidth);
        var y1 = Math.Min(top + Height, resizedHeight);
        var crop = ArrayPool<byte>.Shared.Rent(Height * Width * 3);
        try
        {
            var cropSpan = crop.AsSpan(0, Height * Width * 3);
            if (x0 != left || y0 != top || x1 != left + Width || y1 != top + Height)
                cropSpan.Clear();
            if (x1 > x0 && y1 > y0)
                WriteWindow(image, resizedWidth, resizedHeight, (x0, y0, x1 - x0, y1 - y0), cropSpan, (x0 - left, y0 - top));
            Normalise(cropSpan, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(crop);
        }
    }

    /// <summary>The short side a JPEG may be reduced to in the DCT (with FastJpegScaling): twice the resize
    /// target, so the resampler still averages at least 2×2 decoded pixels into each output pixel.</summary>
    public int ReducibleToShortSide => !Settings.Resize ? 0
        : 2 * (Settings.ResizeToExact is { } exact ? Math.Max(exact.Height, exact.Width) : Settings.ShortestEdge);

    internal (int Width, int Height) ResizedSize(int width, int height)
    {
        if (!Settings.Resize)
            return (width, height);
        if (Settings.ResizeToExact is { } exact)
            return (exact.Width, exact.Height);
        var edge = Settings.ShortestEdge;
        // Integer product then true division, truncated: torchvision's and Hugging Face's arithmetic.
        return width <= height
            ? (edge, (int)((long)edge * height / (double)width))
            : ((int)((long)edge * width / (double)height), edge);
    }

    private void WriteWindow(DecodedImage image, int resizedWidth, int resizedHeight, (int X, int Y, int Width, int Height) window,
        Span<byte> crop, (int X, int Y) offset)
    {
        var windowBytes = ArrayPool<byte>.Shared.Rent(window.Width * window.Height * 3);
        try
        {
            var windowSpan = windowBytes.AsSpan(0, window.Width * window.Height * 3);
            if (resizedWidth == image.Width && resizedHeight == image.Height)
                CopyRgb(image, window, windowSpan);
            else
                PilResampler.Resize(image.Pixels, image.Width, image.Height, resizedWidth, resizedHeight, window, Settings.Filter, windowSpan);

            for (var y = 0; y < window.Height; y++)
            {
                windowSpan.Slice(y * window.Width * 3, window.Width * 3)
                    .CopyTo(crop[(((offset.Y + y) * Width + offset.X) * 3)..]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(windowBytes);
        }
    }

    private static void CopyRgb(DecodedImage image, (int X, int Y, int Width, int Height) window, Span<byte> destination)
    {
        var pixels = image.Pixels;
        for (var y = 0; y < window.Height; y++)
        {
            var row = pixels.Slice(((window.Y + y) * image.Width + window.X) * DecodedImage.BytesPerPixel, window.Width * DecodedImage.BytesPerPixel);
            var outRow = destination.Slice(y * window.Width * 3, window.Width * 3);
            for (int x = 0, p = 0; x < window.Width; x++, p += DecodedImage.BytesPerPixel)
            {
                outRow[x * 3] = row[p];
                outRow[x * 3 + 1] = row[p + 1];
                outRow[x * 3 + 2] = row[p + 2];
            }
        }
    }

    private void Normalise(ReadOnlySpan<byte> crop, Span<float> destination)
    {
        var plane = Height * Width;
        var red = destination[..plane];
        var green = destination.Slice(plane, plane);
        var blue = destination.Slice(2 * plane, plane);
        var lookup = _lookup.AsSpan();
        for (int i = 0, p = 0; i < plane; i++, p += 3)
        {
            red[i] = lookup[crop[p]];
            green[i] = lookup[256 + crop[p + 1]];
            blue[i] = lookup[512 + crop[p + 2]];
        }
    }

    // Each channel maps 256 byte values to floats; computing them once makes normalisation a lookup.
    private static float[] BuildLookup(PreprocessorSettings settings)
    {
        var lookup = new float[3 * 256];
        for (var c = 0; c < 3; c++)
        {
            for (var b = 0; b < 256; b++)
            {
                var value = settings.Rescale ? (float)(b * (double)settings.RescaleFactor) : b;
                if (settings.Normalize)
                    value = (value - settings.Mean[c]) / settings.Std[c];
                lookup[c * 256 + b] = value;
            }
        }

        return lookup;
    }
}
