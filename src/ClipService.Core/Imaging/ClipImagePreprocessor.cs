using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ClipService.Core.Imaging;

/// <summary>
/// CLIP's image preprocessing as PIL computes it: resize (shortest side to N, long side truncated) with PIL's
/// filter, centre crop (offsets rounded half to even, as torchvision's CenterCrop; zero padding where the crop
/// is larger), rescale and normalise, written channels-first into a caller's span so a batch fills in place.
/// Thread-safe.
/// </summary>
public sealed class ClipImagePreprocessor
{
    private readonly ClipImageDecoder _decoder;
    private readonly float[] _lookup;

    public ClipImagePreprocessor(PreprocessorSettings settings, ClipImageDecoder? decoder = null)
    {
        Settings = settings;
        _decoder = decoder ?? new ClipImageDecoder();
        (Height, Width) = settings.OutputSize;
        _lookup = BuildLookup(settings);
    }

    public PreprocessorSettings Settings { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Floats one image occupies: 3 × height × width.</summary>
    public int TensorLength => 3 * Height * Width;

    public void Preprocess(ReadOnlySpan<byte> encodedImage, Span<float> destination)
    {
        using var image = _decoder.Decode(encodedImage);
        Preprocess(image, destination);
    }

    public void Preprocess(Image<Rgb24> image, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, TensorLength, nameof(destination));
        var (resizedWidth, resizedHeight) = ResizedSize(image.Width, image.Height);
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

    private void WriteWindow(Image<Rgb24> image, int resizedWidth, int resizedHeight, (int X, int Y, int Width, int Height) window,
        Span<byte> crop, (int X, int Y) offset)
    {
        var sourceLength = image.Width * image.Height * 3;
        var source = ArrayPool<byte>.Shared.Rent(sourceLength);
        var windowBytes = ArrayPool<byte>.Shared.Rent(window.Width * window.Height * 3);
        try
        {
            CopyPixels(image, source);
            var windowSpan = windowBytes.AsSpan(0, window.Width * window.Height * 3);
            if (resizedWidth == image.Width && resizedHeight == image.Height)
            {
                for (var y = 0; y < window.Height; y++)
                    source.AsSpan(((window.Y + y) * image.Width + window.X) * 3, window.Width * 3).CopyTo(windowSpan[(y * window.Width * 3)..]);
            }
            else
            {
                PilResampler.Resize(source.AsSpan(0, sourceLength), image.Width, image.Height, resizedWidth, resizedHeight,
                    window, Settings.Filter, windowSpan);
            }

            for (var y = 0; y < window.Height; y++)
            {
                windowSpan.Slice(y * window.Width * 3, window.Width * 3)
                    .CopyTo(crop[(((offset.Y + y) * Width + offset.X) * 3)..]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(windowBytes);
            ArrayPool<byte>.Shared.Return(source);
        }
    }

    private static void CopyPixels(Image<Rgb24> image, byte[] destination)
    {
        var rowBytes = image.Width * 3;
        image.ProcessPixelRows(accessor =>
        {
            for (var y = 0; y < accessor.Height; y++)
                MemoryMarshal.AsBytes(accessor.GetRowSpan(y)).CopyTo(destination.AsSpan(y * rowBytes, rowBytes));
        });
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
