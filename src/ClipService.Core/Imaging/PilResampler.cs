using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ClipService.Core.Imaging;

/// <summary>The interpolation filters of PIL's <c>Image.resize</c> that CLIP preprocessors name.</summary>
public enum ResampleFilter
{
    Bilinear = 2,
    Bicubic = 3,
}

/// <summary>
/// PIL's separable resampling of 8-bit RGB, reproduced bit for bit: antialiasing support scaled by the
/// downscale factor, coefficients normalised then rounded to 22-bit fixed point, a horizontal pass into an
/// 8-bit intermediate (rounded and clipped), then a vertical pass. Only the requested window of the resized
/// image is computed, which gives the same pixels as resizing whole and cropping.
/// </summary>
internal static class PilResampler
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const int Half = 1 << (PrecisionBits - 1);

    /// <param name="source">Packed RGBA rows of the source image (alpha is not read).</param>
    /// <param name="window">The part of the <paramref name="outWidth"/> × <paramref name="outHeight"/> result to write.</param>
    /// <param name="destination">Packed RGB rows of the window.</param>
    /// <param name="vectorised">Use AVX2 where the CPU has it (false: the scalar loop, for tests).</param>
    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int outWidth, int outHeight,
        (int X, int Y, int Width, int Height) window, ResampleFilter filter, Span<byte> destination, bool vectorised = true)
    {
        var horizontal = Coefficients.For(width, outWidth, window.X, window.Width, filter);
        var vertical = Coefficients.For(height, outHeight, window.Y, window.Height, filter);

        // Rows of the source the vertical pass reads.
        var firstRow = vertical.Start[0];
        var lastRow = vertical.Start[^1] + vertical.Count[^1];
        var rows = lastRow - firstRow;
        var intermediateLength = rows * window.Width * 3;
        var intermediate = ArrayPool<byte>.Shared.Rent(intermediateLength);
        try
        {
            HorizontalPass(source.Slice(firstRow * width * 4, rows * width * 4), width, rows, horizontal,
                intermediate.AsSpan(0, intermediateLength), vectorised && Avx2.IsSupported);
            VerticalPass(intermediate.AsSpan(0, intermediateLength), firstRow, window, vertical, destination, vectorised && Avx2.IsSupported);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(intermediate);
        }
    }

    private static void HorizontalPass(ReadOnlySpan<byte> source, int width, int rows, Coefficients horizontal, Span<byte> intermediate,
        bool avx2)
    {
        var outWidth = horizontal.Start.Length;
        var rowStride = width * 4;
        // Each weight repeated for the four bytes of a pixel, so two taps (two RGBA pixels) are one 256-bit
        // multiply-add: the same integer sums as the scalar loop, in any order.
        var spread = avx2 ? SpreadWeights(horizontal) : null;
        for (var y = 0; y < rows; y++)
        {
            var sourceRow = source.Slice(y * rowStride, rowStride);
            var outRow = intermediate.Slice(y * outWidth * 3, outWidth * 3);
            for (var x = 0; x < outWidth; x++)
            {
                var count = horizontal.Count[x];
                var pixels = sourceRow.Slice(horizontal.Start[x] * 4, count * 4);
                int r, g, b;
                if (spread is not null)
                    (r, g, b) = SumAvx2(pixels, spread.AsSpan(x * horizontal.KernelSize * 4, count * 4));
                else
                    (r, g, b) = SumScalar(pixels, horizontal.Weights.AsSpan(x * horizontal.KernelSize, count));
                outRow[x * 3] = Clip8(r);
                outRow[x * 3 + 1] = Clip8(g);
                outRow[x * 3 + 2] = Clip8(b);
            }
        }
    }

    private static (int R, int G, int B) SumScalar(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> kernel)
    {
        int r = Half, g = Half, b = Half;
        for (int i = 0, p = 0; i < kernel.Length; i++, p += 4)
        {
            var k = kernel[i];
            r += pixels[p] * k;
            g += pixels[p + 1] * k;
            b += pixels[p + 2] * k;
        }

        return (r, g, b);
    }

    // Bounds were checked once by the caller's slices; the loop reads through references so that the two
    // independent sums (four taps an iteration) are all it does.
    private static (int R, int G, int B) SumAvx2(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> spreadKernel)
    {
        ref var pixel = ref MemoryMarshal.GetReference(pixels);
        ref var weight = ref MemoryMarshal.GetReference(spreadKernel);
        var even = Vector256<int>.Zero;
        var odd = Vector256<int>.Zero;
        var p = 0;
        for (; p + 16 <= pixels.Length; p += 16)
        {
            even += EightBytes(ref pixel, p) * Vector256.LoadUnsafe(ref weight, (nuint)p);
            odd += EightBytes(ref pixel, p + 8) * Vector256.LoadUnsafe(ref weight, (nuint)p + 8);
        }

        if (p + 8 <= pixels.Length)
        {
            even += EightBytes(ref pixel, p) * Vector256.LoadUnsafe(ref weight, (nuint)p);
            p += 8;
        }

        var sum = even + odd;
        var total = sum.GetLower() + sum.GetUpper();
        if (p < pixels.Length)
        {
            var one = Sse41.ConvertToVector128Int32(Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref pixel, p))).AsByte());
            total += one * Vector128.LoadUnsafe(ref weight, (nuint)p);
        }

        return (Half + total.GetElement(0), Half + total.GetElement(1), Half + total.GetElement(2));
    }

    // Eight bytes widened to eight ints: two RGBA pixels in the horizontal pass, eight bytes of a row in the vertical.
    private static Vector256<int> EightBytes(ref byte pixel, int offset) =>
        Avx2.ConvertToVector256Int32(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref pixel, offset))).AsByte());

    private static int[] SpreadWeights(Coefficients coefficients)
    {
        var spread = new int[coefficients.Weights.Length * 4];
        for (var i = 0; i < coefficients.Weights.Length; i++)
            spread.AsSpan(i * 4, 4).Fill(coefficients.Weights[i]);
        return spread;
    }

    private static void VerticalPass(ReadOnlySpan<byte> intermediate, int firstRow, (int X, int Y, int Width, int Height) window,
        Coefficients vertical, Span<byte> destination, bool avx2)
    {
        var windowStride = window.Width * 3;
        for (var y = 0; y < window.Height; y++)
        {
            var start = vertical.Start[y] - firstRow;
            var kernel = vertical.Weights.AsSpan(y * vertical.KernelSize, vertical.Count[y]);
            var rows = intermediate[(start * windowStride)..];
            var outRow = destination.Slice(y * windowStride, windowStride);
            var i = avx2 ? VerticalAvx2(rows, windowStride, kernel, outRow) : 0;
            for (; i < windowStride; i++)
            {
                var sum = Half;
                var p = i;
                foreach (var k in kernel)
                {
                    sum += rows[p] * k;
                    p += windowStride;
                }

                outRow[i] = Clip8(sum);
            }
        }
    }

    // Eight bytes of a row at once, down the kernel's rows: the scalar loop's integer sums, then its clipping
    // (an arithmetic shift, clamped to 0..255, is the same as Clip8). Returns how many bytes it wrote.
    private static int VerticalAvx2(ReadOnlySpan<byte> rows, int stride, ReadOnlySpan<int> kernel, Span<byte> outRow)
    {
        // Checked once here, the loop reads through a reference.
        ArgumentOutOfRangeException.ThrowIfLessThan(rows.Length, (kernel.Length - 1) * stride + outRow.Length, nameof(rows));
        ref var row = ref MemoryMarshal.GetReference(rows);
        var i = 0;
        for (; i + 8 <= outRow.Length; i += 8)
        {
            var sum = Vector256.Create(Half);
            var p = i;
            foreach (var k in kernel)
            {
                sum += EightBytes(ref row, p) * Vector256.Create(k);
                p += stride;
            }

            var clipped = Vector256.Min(Vector256.Max(sum >> PrecisionBits, Vector256<int>.Zero), Vector256.Create(255));
            var shorts = Vector256.Narrow(clipped, clipped);
            var bytes = Vector256.Narrow(shorts, shorts);
            MemoryMarshal.Write(outRow[i..], bytes.AsUInt64().GetElement(0));
        }

        return i;
    }

    private static byte Clip8(int value) =>
        value >= 1 << PrecisionBits << 8 ? (byte)255 : value <= 0 ? (byte)0 : (byte)(value >> PrecisionBits);

    private sealed class Coefficients
    {
        public required int KernelSize { get; init; }
        public required int[] Start { get; init; }
        public required int[] Count { get; init; }
        public required int[] Weights { get; init; }

        public static Coefficients For(int inSize, int outSize, int first, int count, ResampleFilter filter)
        {
            var (support, function) = filter switch
            {
                ResampleFilter.Bicubic => (2.0, (Func<double, double>)Bicubic),
                ResampleFilter.Bilinear => (1.0, Bilinear),
                _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unsupported filter."),
            };
            var scale = (double)inSize / outSize;
            var filterScale = Math.Max(scale, 1.0);
            var inverseScale = 1.0 / filterScale;
            support *= filterScale;
            var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
            var starts = new int[count];
            var counts = new int[count];
            var weights = new int[count * kernelSize];
            Span<double> k = stackalloc double[kernelSize];
            for (var i = 0; i < count; i++)
            {
                var center = (first + i + 0.5) * scale;
                var min = Math.Max((int)(center - support + 0.5), 0);
                var n = Math.Min((int)(center + support + 0.5), inSize) - min;
                var total = 0.0;
                for (var x = 0; x < n; x++)
                {
                    k[x] = function((x + min - center + 0.5) * inverseScale);
                    total += k[x];
                }

                for (var x = 0; x < n; x++)
                {
                    var normalised = total != 0.0 ? k[x] / total : k[x];
                    weights[i * kernelSize + x] = normalised < 0
                        ? (int)(-0.5 + normalised * (1 << PrecisionBits))
                        : (int)(0.5 + normalised * (1 << PrecisionBits));
                }

                starts[i] = min;
                counts[i] = n;
            }

            return new Coefficients { KernelSize = kernelSize, Start = starts, Count = counts, Weights = weights };
        }

        private static double Bicubic(double x)
        {
            const double a = -0.5;
            x = Math.Abs(x);
            if (x < 1.0)
                return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0)
                return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }

        private static double Bilinear(double x)
        {
            x = Math.Abs(x);
            return x < 1.0 ? 1.0 - x : 0.0;
        }
    }
}
