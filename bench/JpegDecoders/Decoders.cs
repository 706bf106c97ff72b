using System.Reflection;
using System.Runtime.InteropServices;
using ClipService.Core.Imaging;
using ClipService.Core.Imaging.TurboJpeg;
using NetVips;
using SkiaSharp;

namespace JpegDecoders;

/// <summary>Packed RGBA rows as a decoder produced them, before any EXIF orientation.</summary>
internal sealed record RawImage(byte[] Rgba, int Width, int Height);

/// <summary>The service's own TurboJPEG path (ClipService.Core's <see cref="TurboJpegDecoder"/>, linked in) at the
/// size Skia's codec gives for the scale, as ClipImageDecoder asks for it.</summary>
internal static class TurboRaw
{
    public static (int Width, int Height) Size(byte[] jpeg, int reduction)
    {
        using var data = SKData.CreateCopy(jpeg);
        using var codec = SKCodec.Create(new SKMemoryStream(data)) ?? throw new InvalidOperationException("Skia cannot open the image");
        var size = reduction == 1 ? codec.Info.Size : codec.GetScaledDimensions(1f / reduction);
        return (size.Width, size.Height);
    }

    public static RawImage Decode(byte[] jpeg, int reduction)
    {
        var (w, h) = Size(jpeg, reduction);
        var pixels = new byte[w * h * 4];
        if (!TurboJpegDecoder.TryDecodeRgba(jpeg, pixels, w * 4, w, h))
            throw new InvalidOperationException($"TurboJPEG declined the image at {w}×{h}");
        return new RawImage(pixels, w, h);
    }
}

/// <summary>Skia exactly as ClipImageDecoder calls it (null colour space, unpremultiplied RGBA, GetScaledDimensions
/// for 1/2, 1/4, 1/8), without the orientation, so raw pixels can be compared.</summary>
internal static class SkiaRaw
{
    private static readonly MethodInfo OrientMethod = typeof(ClipImageDecoder).GetMethod("Orient", BindingFlags.NonPublic | BindingFlags.Static)
        ?? throw new InvalidOperationException("ClipImageDecoder.Orient not found");

    public static unsafe (RawImage Image, SKEncodedOrigin Origin, (int Width, int Height) EncodedSize) Decode(byte[] jpeg, int reduction)
    {
        using var data = SKData.CreateCopy(jpeg);
        using var codec = SKCodec.Create(new SKMemoryStream(data)) ?? throw new InvalidOperationException("Skia cannot open the image");
        var size = reduction == 1 ? codec.Info.Size : codec.GetScaledDimensions(1f / reduction);
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
        var pixels = new byte[info.BytesSize];
        fixed (byte* p = pixels)
        {
            var result = codec.GetPixels(info, (nint)p, new SKCodecOptions(0));
            if (result != SKCodecResult.Success)
                throw new InvalidOperationException($"Skia: {result}");
        }

        return (new RawImage(pixels, size.Width, size.Height), codec.EncodedOrigin, (codec.Info.Width, codec.Info.Height));
    }

    /// <summary>Any decoder's raw pixels turned upright by the service's own ClipImageDecoder.Orient, as a
    /// DecodedImage whose FullSize is the upright encoded size (so a reduced decode is cropped as at full size).</summary>
    public static DecodedImage Upright(RawImage raw, SKEncodedOrigin origin, (int Width, int Height) encodedSize)
    {
        var bitmap = new SKBitmap(new SKImageInfo(raw.Width, raw.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null));
        if (bitmap.RowBytes != raw.Width * 4)
            throw new InvalidOperationException("unexpected row padding");
        Marshal.Copy(raw.Rgba, 0, bitmap.GetPixels(), raw.Rgba.Length);
        return (DecodedImage)OrientMethod.Invoke(null, [bitmap, origin, encodedSize])!;
    }
}

/// <summary>NetVips: NewFromBuffer (full size) or jpegload with shrink, sequential access, uchar bands as libvips
/// gives them.</summary>
internal static class VipsRaw
{
    public static void Configure()
    {
        // One worker thread, and no operation cache (a cached load would time nothing).
        NetVips.NetVips.Concurrency = 1;
        Cache.Max = 0;
        Cache.MaxMem = 0;
        Cache.MaxFiles = 0;
    }

    public static string Version => $"libvips {NetVips.NetVips.Version(0)}.{NetVips.NetVips.Version(1)}.{NetVips.NetVips.Version(2)}";

    public static Image Load(byte[] jpeg, int reduction) => reduction == 1
        ? Image.NewFromBuffer(jpeg, access: Enums.Access.Sequential)
        : Image.JpegloadBuffer(jpeg, shrink: reduction, access: Enums.Access.Sequential);

    /// <summary>RGBA from libvips' bands: RGB gets alpha 255, grey is replicated; CMYK (which libvips has already
    /// un-inverted) is converted with Skia's formula on the re-inverted samples.</summary>
    public static (RawImage Image, string Bands) DecodeRgba(byte[] jpeg, int reduction)
    {
        using var image = Load(jpeg, reduction);
        if (image.Format != Enums.BandFormat.Uchar)
            throw new InvalidOperationException($"libvips gave {image.Format}");
        var bytes = image.WriteToMemory<byte>();
        var (w, h, bands) = (image.Width, image.Height, image.Bands);
        var rgba = new byte[w * h * 4];
        for (int i = 0, s = 0, d = 0; i < w * h; i++, s += bands, d += 4)
        {
            switch (bands)
            {
                case 3:
                    (rgba[d], rgba[d + 1], rgba[d + 2], rgba[d + 3]) = (bytes[s], bytes[s + 1], bytes[s + 2], 255);
                    break;
                case 1:
                    (rgba[d], rgba[d + 1], rgba[d + 2], rgba[d + 3]) = (bytes[s], bytes[s], bytes[s], 255);
                    break;
                case 4:
                    var k = 255 - bytes[s + 3];
                    rgba[d] = TurboJpegDecoder.MulDiv255Round(255 - bytes[s], k);
                    rgba[d + 1] = TurboJpegDecoder.MulDiv255Round(255 - bytes[s + 1], k);
                    rgba[d + 2] = TurboJpegDecoder.MulDiv255Round(255 - bytes[s + 2], k);
                    rgba[d + 3] = 255;
                    break;
                default:
                    throw new InvalidOperationException($"{bands} bands");
            }
        }

        return (new RawImage(rgba, w, h), $"{bands} band(s), {image.Interpretation}");
    }

    /// <summary>libvips' own CMYK → sRGB (colourspace, through its built-in CMYK ICC profile), as RGBA.</summary>
    public static RawImage DecodeViaColourspace(byte[] jpeg)
    {
        using var image = Load(jpeg, 1);
        using var rgb = image.Colourspace(Enums.Interpretation.Srgb);
        using var rgb8 = rgb.Format == Enums.BandFormat.Uchar ? rgb.Copy() : rgb.Cast(Enums.BandFormat.Uchar);
        var bytes = rgb8.WriteToMemory<byte>();
        var rgba = new byte[rgb8.Width * rgb8.Height * 4];
        for (int i = 0, s = 0; i < rgb8.Width * rgb8.Height; i++, s += rgb8.Bands)
            (rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2], rgba[i * 4 + 3]) = (bytes[s], bytes[s + 1], bytes[s + 2], 255);
        return new RawImage(rgba, rgb8.Width, rgb8.Height);
    }

    public static int? Orientation(byte[] jpeg)
    {
        using var image = Load(jpeg, 1);
        return image.Contains("orientation") ? (int)image.Get("orientation") : null;
    }
}
