using ClipService.Core.Imaging;

namespace ClipService.Core.Tests.Imaging;

/// <summary>The decoder's refusals (typed, before pixels are decoded where the header suffices) and its orientation.</summary>
public sealed class ClipImageDecoderTests
{
    private static byte[] Image(string name) => File.ReadAllBytes(TestPaths.Asset("images", name));

    private static ImageProblem ProblemOf(byte[] encoded, ImageDecodingOptions? options = null) =>
        Assert.Throws<InvalidImageException>(() => new ClipImageDecoder(options).Decode(encoded).Dispose()).Problem;

    [Fact]
    public void Refuses_an_image_over_the_pixel_cap_from_its_header_alone()
    {
        // A 69-byte PNG claiming 100,000 × 100,000 pixels (30 GB decoded) with 64 bytes of pixel data: the header decides.
        var header = Convert.FromHexString("89504E470D0A1A0A0000000D49484452000186A0000186A0080200000027309C9F0000000C49444154"
            + "789C6360A00C000000400001B7347CEF0000000049454E44AE426082");
        Assert.Equal(ImageProblem.TooLarge, ProblemOf(header));
        Assert.Equal(ImageProblem.TooLarge, ProblemOf(Image("photo.jpg"), new ImageDecodingOptions { MaxPixels = 640 * 480 - 1 }));
    }

    [Fact]
    public void Refuses_formats_outside_the_allow_list_and_non_images_as_unsupported()
    {
        // A little-endian TIFF header (Skia has no TIFF decoder; ImageSharp is not used for it).
        byte[] tiff = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00];
        Assert.Equal(ImageProblem.UnsupportedFormat, ProblemOf(tiff));
        Assert.Equal(ImageProblem.UnsupportedFormat, ProblemOf("definitely not an image"u8.ToArray()));
        Assert.Equal(ImageProblem.Corrupt, ProblemOf([]));
    }

    [Theory]
    [InlineData("photo.jpg")]
    [InlineData("photo_progressive.jpg")]
    [InlineData("transparent.png")]
    [InlineData("lossy.webp")]
    [InlineData("palette.gif")]
    [InlineData("bitmap.bmp")]
    public void Refuses_a_truncated_image_as_corrupt(string name)
    {
        var whole = Image(name);
        foreach (var fraction in new[] { 0.9, 0.5, 0.1 })
            Assert.Equal(ImageProblem.Corrupt, ProblemOf(whole[..(int)(whole.Length * fraction)]));
    }

    [Fact]
    public void Exif_orientations_that_turn_the_image_swap_its_width_and_height()
    {
        // The eight files hold the same 161 × 121 pixels with each orientation tag; the PIL parity cases check
        // every orientation's pixels, this checks the upright size and that it is also the geometry's full size.
        for (var orientation = 1; orientation <= 8; orientation++)
        {
            using var image = new ClipImageDecoder().Decode(Image($"orientation_{orientation}.jpg"));
            var expected = orientation >= 5 ? (121, 161) : (161, 121);
            Assert.Equal(expected, (image.Width, image.Height));
            Assert.Equal(expected, image.FullSize);
        }
    }

    [Fact]
    public void Fast_jpeg_scaling_decodes_in_the_dct_only_while_twice_the_target_remains()
    {
        var fast = new ClipImageDecoder(new ImageDecodingOptions { FastJpegScaling = true });
        // 4000 × 3000 with a 448-pixel floor: 1/8 would give 375 rows, so 1/4 (1000 × 750).
        using (var reduced = fast.Decode(Image("photo_12mp.jpg"), 448))
        {
            Assert.Equal((1000, 750), (reduced.Width, reduced.Height));
            Assert.Equal((4000, 3000), reduced.FullSize);
        }

        using (var small = fast.Decode(Image("odd_420.jpg"), 448))
            Assert.Equal((641, 359), (small.Width, small.Height));
        using (var png = fast.Decode(Image("wide.png"), 100))
            Assert.Equal((900, 200), (png.Width, png.Height));
        using (var exact = new ClipImageDecoder().Decode(Image("photo_12mp.jpg"), 448))
            Assert.Equal((4000, 3000), (exact.Width, exact.Height));
    }
}
