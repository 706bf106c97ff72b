using ClipService.Core.Imaging;

namespace ClipService.Core.Tests.Imaging;

public sealed class PilResamplerTests
{
    [Theory]
    [InlineData(301, 203, 97, 65, ResampleFilter.Bicubic)]   // odd tap counts: the AVX2 loop's one-pixel tail
    [InlineData(640, 480, 224, 168, ResampleFilter.Bicubic)]
    [InlineData(150, 700, 64, 298, ResampleFilter.Bilinear)]
    [InlineData(40, 30, 120, 90, ResampleFilter.Bicubic)]     // upscaling
    [InlineData(210, 1900, 71, 150, ResampleFilter.Bicubic)]  // tall: ~50 vertical taps, rows not a multiple of 8 bytes
    public void The_vectorised_passes_give_the_scalar_passes_bytes(int width, int height, int outWidth, int outHeight, ResampleFilter filter)
    {
        var source = new byte[width * height * 4];
        new Random(width * height).NextBytes(source);
        var window = (3, 2, outWidth - 5, outHeight - 4);
        var scalar = new byte[window.Item3 * window.Item4 * 3];
        var vectorised = new byte[scalar.Length];

        PilResampler.Resize(source, width, height, outWidth, outHeight, window, filter, scalar, vectorised: false);
        PilResampler.Resize(source, width, height, outWidth, outHeight, window, filter, vectorised);

        Assert.Equal(scalar, vectorised);
    }
}
