using System.Runtime.InteropServices;

namespace ClipService.Core.Imaging.TurboJpeg;

/// <summary>
/// JPEG pixels from the system's libjpeg-turbo (Debian's libturbojpeg0, built with its SIMD code), used in place of
/// Skia's bundled copy, which is built without it: 2–2.5× faster at full size on an AVX-512 EPYC, and the same
/// bytes (the SIMD and C paths of the accurate IDCT and fancy upsampling agree; checked against Skia and PIL on
/// every JPEG of the reference set, at full size and at 1/2, 1/4 and 1/8, on x86-64). Flags 0 are PIL's defaults:
/// fancy upsampling, the accurate integer IDCT. Only pixels of clean files come from here: the header, size limits,
/// orientation and the truncated-progressive check stay with <see cref="ClipImageDecoder"/>, and anything TurboJPEG
/// warns about goes back to Skia. Thread-safe: one decompressor per call, no error strings read.
/// </summary>
public static class TurboJpegDecoder
{
    private const string Library = "libturbojpeg.so.0";

    // turbojpeg.h: pixel formats, colour spaces.
    private const int PixelFormatRgba = 7;
    private const int PixelFormatCmyk = 11;
    private const int ColorspaceCmyk = 3;
    private const int ColorspaceYcck = 4;

    private static readonly Lazy<string?> Unavailable = new(() => Probe(Library));

    /// <summary>True when libturbojpeg.so.0 (TurboJPEG 1.4 or later: the functions used here) can be loaded.</summary>
    public static bool IsAvailable => Unavailable.Value is null;

    /// <summary>Why the library cannot be used; null when it can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>Decodes <paramref name="jpeg"/> into <paramref name="rgba"/>: rows of <paramref name="rowBytes"/>
    /// bytes, width × height pixels of 4 bytes, at full size or at the 1/2, 1/4 or 1/8 scale whose rounded-up size
    /// is width × height. False, with nothing promised about <paramref name="rgba"/>, when this library should not
    /// decide: an unusual file (a subsampling or precision TurboJPEG 2 does not take, 100 scans or more) or any
    /// warning or error. The caller then decodes with Skia, so such files get Skia's verdict and pixels as before
    /// (Skia stops at a damaged tail that a whole-image decode reads on, and refuses files of 100 scans or more, a
    /// CPU bomb that TurboJPEG would decode scan by scan).</summary>
    public static bool TryDecodeRgba(ReadOnlySpan<byte> jpeg, Span<byte> rgba, int rowBytes, int width, int height)
    {
        if ((long)rowBytes * height > rgba.Length || rowBytes < (long)width * 4 || HasAtLeastScans(jpeg, MaxScans))
            return false;
        var handle = tjInitDecompress();
        if (handle == 0)
            return false;
        try
        {
            var size = new CULong((nuint)jpeg.Length);
            ref var source = ref MemoryMarshal.GetReference(jpeg);
            // Fails (or warns, also -1) on what TurboJPEG 2 does not name: 4:1:0 or odd sampling factors, 12-bit.
            if (tjDecompressHeader3(handle, ref source, size, out var fullWidth, out var fullHeight, out _, out var colorspace) != 0
                || !IsOfferedScale(fullWidth, fullHeight, width, height))
                return false;

            var cmyk = colorspace is ColorspaceCmyk or ColorspaceYcck;
            if (tjDecompress2(handle, ref source, size, ref MemoryMarshal.GetReference(rgba), width, rowBytes, height, cmyk ? PixelFormatCmyk : PixelFormatRgba, 0) != 0)
                return false;
            if (cmyk)
            {
                for (var y = 0; y < height; y++)
                    AdobeCmykToRgba(rgba.Slice(y * rowBytes, width * 4));
            }

            return true;
        }
        finally
        {
            _ = tjDestroy(handle);
        }
    }

    // Skia's limit (its progress monitor stops a decode at scan 100). Every scan starts with an SOS marker, which
    // cannot occur inside entropy-coded data (an FF byte there is stuffed); one in metadata only over-counts.
    private const int MaxScans = 100;

    private static bool HasAtLeastScans(ReadOnlySpan<byte> jpeg, int count)
    {
        ReadOnlySpan<byte> startOfScan = [0xFF, 0xDA];
        for (var found = 0; found < count; found++)
        {
            var at = jpeg.IndexOf(startOfScan);
            if (at < 0)
                return false;
            jpeg = jpeg[(at + 2)..];
        }

        return true;
    }

    // TurboJPEG picks the largest scale that fits the size asked for; only sizes that are exactly one of these
    // scales (TJSCALED rounds up, as Skia's GetScaledDimensions does) are taken, so both give the same pixels.
    private static bool IsOfferedScale(int fullWidth, int fullHeight, int width, int height)
    {
        foreach (var denominator in (ReadOnlySpan<int>)[1, 2, 4, 8])
        {
            if ((fullWidth + denominator - 1) / denominator == width && (fullHeight + denominator - 1) / denominator == height)
                return true;
        }

        return false;
    }

    // libjpeg hands CMYK back as stored: Adobe's inverted samples. RGB is each of C, M, Y times K over 255, rounded
    // as Skia rounds (its SkMulDiv255Round), which is what PIL's convert("RGB") gives for these files.
    private static void AdobeCmykToRgba(Span<byte> span)
    {
        for (var p = 0; p < span.Length; p += 4)
        {
            int k = span[p + 3];
            span[p] = MulDiv255Round(span[p], k);
            span[p + 1] = MulDiv255Round(span[p + 1], k);
            span[p + 2] = MulDiv255Round(span[p + 2], k);
            span[p + 3] = 255;
        }
    }

    internal static byte MulDiv255Round(int a, int b)
    {
        var product = a * b + 128;
        return (byte)((product + (product >> 8)) >> 8);
    }

    /// <summary>Why <paramref name="library"/> cannot serve as TurboJPEG here; null when it can.</summary>
    internal static string? Probe(string library)
    {
        if (!OperatingSystem.IsLinux())
            return "the system TurboJPEG library is only looked for on Linux";
        if (!NativeLibrary.TryLoad(library, typeof(TurboJpegDecoder).Assembly, null, out var handle))
            return $"{library} cannot be loaded (Debian: apt-get install libturbojpeg0; Ubuntu: libturbojpeg)";
        foreach (var export in (string[])["tjInitDecompress", "tjDecompressHeader3", "tjDecompress2", "tjDestroy"])
        {
            if (!NativeLibrary.TryGetExport(handle, export, out _))
                return $"{library} lacks {export} (TurboJPEG 1.4 or later is needed)";
        }

        return null;
    }

    [DllImport(Library, ExactSpelling = true)]
    private static extern nint tjInitDecompress();

    [DllImport(Library, ExactSpelling = true)]
    private static extern int tjDestroy(nint handle);

    // DllImport, not LibraryImport: its generated stubs need unsafe code, which this assembly does not allow; every
    // argument here is blittable (a ref byte is pinned for the call). unsigned long: CULong, right on any platform.
    [DllImport(Library, ExactSpelling = true)]
    private static extern int tjDecompressHeader3(nint handle, ref byte jpeg, CULong size, out int width, out int height, out int subsampling, out int colorspace);

    [DllImport(Library, ExactSpelling = true)]
    private static extern int tjDecompress2(nint handle, ref byte jpeg, CULong size, ref byte destination, int width, int pitch, int height, int pixelFormat, int flags);
}
