using System.Runtime.InteropServices;

namespace ClipService.Core.Imaging.TurboJpeg;

/// <summary>
/// JPEG pixels from the system's libjpeg-turbo (Debian's libturbojpeg0, built with its SIMD code), used in place of
/// Skia's bundled copy, which is built without it: 2–2.5× faster at full size on an AVX-512 EPYC, and the same
/// bytes (the SIMD and C paths of the accurate IDCT and fancy upsampling agree; checked against Skia and PIL on
/// every JPEG of the reference set, at full size and at 1/2, 1/4 and 1/8). Flags 0 are PIL's defaults: fancy
/// upsampling, the accurate integer IDCT. Only pixels come from here: the header, size limits, orientation and the
/// truncated-progressive check stay with <see cref="ClipImageDecoder"/>. Thread-safe: one decompressor per call.
/// </summary>
public static class TurboJpegDecoder
{
    private const string Library = "libturbojpeg.so.0";

    // turbojpeg.h: pixel formats, colour spaces, error codes.
    private const int PixelFormatRgba = 7;
    private const int PixelFormatCmyk = 11;
    private const int ColorspaceCmyk = 3;
    private const int ColorspaceYcck = 4;
    private const int ErrorWarning = 0;

    private static readonly Lazy<string?> Unavailable = new(FindLibrary);

    /// <summary>True when libturbojpeg.so.0 (TurboJPEG 2.0 or later) can be loaded.</summary>
    public static bool IsAvailable => Unavailable.Value is null;

    /// <summary>Why the library cannot be used; null when it can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>What decoding <paramref name="jpeg"/> into <paramref name="rgba"/> (width × height × 4 bytes, at full
    /// size or at the 1/2, 1/4 or 1/8 scale whose rounded-up size is width × height) came to.</summary>
    public static Outcome DecodeRgba(ReadOnlySpan<byte> jpeg, Span<byte> rgba, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rgba.Length, width * height * 4, nameof(rgba));
        var handle = tjInitDecompress();
        if (handle == 0)
            return Outcome.NotHandled;
        try
        {
            var size = new CULong((nuint)jpeg.Length);
            ref var source = ref MemoryMarshal.GetReference(jpeg);
            // A subsampling TurboJPEG does not name (4:1:0, odd factors) fails here: Skia decodes those.
            if (tjDecompressHeader3(handle, ref source, size, out var fullWidth, out var fullHeight, out _, out var colorspace) != 0
                || !IsOfferedScale(fullWidth, fullHeight, width, height))
                return Outcome.NotHandled;

            var cmyk = colorspace is ColorspaceCmyk or ColorspaceYcck;
            if (tjDecompress2(handle, ref source, size, ref MemoryMarshal.GetReference(rgba), width, 0, height, cmyk ? PixelFormatCmyk : PixelFormatRgba, 0) != 0)
            {
                var message = Marshal.PtrToStringUTF8(tjGetErrorStr2(handle)) ?? "";
                if (tjGetErrorCode(handle) != ErrorWarning)
                    return Outcome.Corrupt(message);
                // libjpeg pads a file cut short with a fake end marker and warns; Skia and PIL refuse it. Other
                // warnings (extraneous bytes, a scan ended early) are decoded past, as they do.
                if (message.Contains("Premature end of JPEG file", StringComparison.Ordinal))
                    return Outcome.Truncated;
            }

            if (cmyk)
                AdobeCmykToRgba(rgba[..(width * height * 4)]);
            return Outcome.Decoded;
        }
        finally
        {
            _ = tjDestroy(handle);
        }
    }

    /// <summary>The result of <see cref="DecodeRgba"/>.</summary>
    public readonly record struct Outcome(OutcomeKind Kind, string? Problem)
    {
        public static Outcome Decoded => new(OutcomeKind.Decoded, null);
        public static Outcome NotHandled => new(OutcomeKind.NotHandled, null);
        public static Outcome Truncated => new(OutcomeKind.Truncated, null);
        public static Outcome Corrupt(string problem) => new(OutcomeKind.Corrupt, problem);
    }

    public enum OutcomeKind
    {
        /// <summary>The pixels are written.</summary>
        Decoded,
        /// <summary>Nothing is written: the caller decodes it another way.</summary>
        NotHandled,
        Truncated,
        Corrupt,
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

    private static byte MulDiv255Round(int a, int b)
    {
        var product = a * b + 128;
        return (byte)((product + (product >> 8)) >> 8);
    }

    private static string? FindLibrary()
    {
        if (!OperatingSystem.IsLinux())
            return "the system TurboJPEG library is only looked for on Linux";
        if (!NativeLibrary.TryLoad(Library, typeof(TurboJpegDecoder).Assembly, null, out var handle))
            return $"{Library} cannot be loaded (Debian/Ubuntu: apt-get install libturbojpeg0)";
        foreach (var export in (string[])["tjInitDecompress", "tjDecompressHeader3", "tjDecompress2", "tjGetErrorStr2", "tjGetErrorCode", "tjDestroy"])
        {
            if (!NativeLibrary.TryGetExport(handle, export, out _))
                return $"{Library} lacks {export} (TurboJPEG 2.0 or later is needed)";
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

    [DllImport(Library, ExactSpelling = true)]
    private static extern nint tjGetErrorStr2(nint handle);

    [DllImport(Library, ExactSpelling = true)]
    private static extern int tjGetErrorCode(nint handle);
}
