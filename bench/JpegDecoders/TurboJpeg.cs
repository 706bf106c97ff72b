using System.Runtime.InteropServices;

namespace JpegDecoders;

/// <summary>The few TurboJPEG 2.x entry points of the system's libturbojpeg.so.0 (Debian libturbojpeg0) used here.</summary>
internal static unsafe partial class TurboJpegNative
{
    private const string Library = "libturbojpeg.so.0";

    // Pixel formats (TJPF_*) and JPEG colour spaces (TJCS_*) of turbojpeg.h.
    public const int PixelFormatRgb = 0;
    public const int PixelFormatRgba = 7;
    public const int PixelFormatCmyk = 11;
    public const int ColorspaceCmyk = 3;
    public const int ColorspaceYcck = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct ScalingFactor
    {
        public int Num;
        public int Denom;
    }

    [LibraryImport(Library)]
    public static partial nint tjInitDecompress();

    [LibraryImport(Library)]
    public static partial int tjDestroy(nint handle);

    // unsigned long is 64 bits on Linux x64: CULong keeps the declaration right anywhere.
    [LibraryImport(Library)]
    public static partial int tjDecompressHeader3(nint handle, byte* jpegBuf, CULong jpegSize,
        out int width, out int height, out int jpegSubsamp, out int jpegColorspace);

    [LibraryImport(Library)]
    public static partial int tjDecompress2(nint handle, byte* jpegBuf, CULong jpegSize, byte* dstBuf,
        int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library)]
    public static partial ScalingFactor* tjGetScalingFactors(out int numScalingFactors);

    [LibraryImport(Library)]
    public static partial nint tjGetErrorStr2(nint handle);
}

/// <summary>One TurboJPEG decompressor (one per thread). Flags 0: fancy upsampling and the accurate islow IDCT,
/// PIL's defaults.</summary>
internal sealed unsafe class TurboJpegDecoder : IDisposable
{
    private const int Flags = 0;
    private nint _handle = TurboJpegNative.tjInitDecompress();

    public TurboJpegDecoder()
    {
        if (_handle == 0)
            throw new InvalidOperationException("tjInitDecompress failed");
    }

    public readonly record struct Header(int Width, int Height, int Subsampling, int Colorspace)
    {
        public bool IsCmyk => Colorspace is TurboJpegNative.ColorspaceCmyk or TurboJpegNative.ColorspaceYcck;
    }

    public Header ReadHeader(ReadOnlySpan<byte> jpeg)
    {
        fixed (byte* source = jpeg)
        {
            Check(TurboJpegNative.tjDecompressHeader3(_handle, source, new CULong((nuint)jpeg.Length),
                out var w, out var h, out var subsampling, out var colorspace), "tjDecompressHeader3");
            return new Header(w, h, subsampling, colorspace);
        }
    }

    /// <summary>The size TurboJPEG decodes to at 1/<paramref name="reduction"/> (TJSCALED: rounded up).</summary>
    public static (int Width, int Height) ScaledSize(int width, int height, int reduction)
    {
        var factors = TurboJpegNative.tjGetScalingFactors(out var count);
        for (var i = 0; i < count; i++)
        {
            var f = factors[i];
            if (f.Num * reduction == f.Denom)
                return ((width * f.Num + f.Denom - 1) / f.Denom, (height * f.Num + f.Denom - 1) / f.Denom);
        }

        throw new ArgumentException($"TurboJPEG offers no 1/{reduction} scaling factor", nameof(reduction));
    }

    /// <summary>Decodes into <paramref name="destination"/> (width × height × bytes of the pixel format); width and
    /// height pick the scaling factor.</summary>
    public void DecodeInto(ReadOnlySpan<byte> jpeg, byte* destination, int width, int height, int pixelFormat)
    {
        fixed (byte* source = jpeg)
        {
            Check(TurboJpegNative.tjDecompress2(_handle, source, new CULong((nuint)jpeg.Length), destination,
                width, 0, height, pixelFormat, Flags), "tjDecompress2");
        }
    }

    /// <summary>Packed RGBA at 1/<paramref name="reduction"/>; CMYK JPEGs are decoded as CMYK and converted as Skia
    /// converts them (the samples taken as Adobe-inverted: R = C·K/255, rounded).</summary>
    public RawImage DecodeRgba(byte[] jpeg, int reduction)
    {
        var header = ReadHeader(jpeg);
        var (w, h) = reduction == 1 ? (header.Width, header.Height) : ScaledSize(header.Width, header.Height, reduction);
        var pixels = new byte[w * h * 4];
        fixed (byte* destination = pixels)
        {
            DecodeInto(jpeg, destination, w, h, header.IsCmyk ? TurboJpegNative.PixelFormatCmyk : TurboJpegNative.PixelFormatRgba);
        }

        if (header.IsCmyk)
            Cmyk.InvertedToRgbaInPlace(pixels);
        return new RawImage(pixels, w, h);
    }

    private void Check(int result, string function)
    {
        if (result != 0)
            throw new InvalidOperationException($"{function}: {Marshal.PtrToStringUTF8(TurboJpegNative.tjGetErrorStr2(_handle))}");
    }

    public void Dispose()
    {
        if (_handle != 0)
        {
            _ = TurboJpegNative.tjDestroy(_handle);
            _handle = 0;
        }
    }
}
