using ClipService.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace ClipService.Tests;

internal static class TestImages
{
    public static byte[] Shape(string colour, string shape, int seed = 1, int width = 224, int height = 224)
    {
        using var image = ShapeImageGenerator.Render(new Random(seed), colour, shape, width, height);
        return Png(image);
    }

    public static byte[] Png(Image image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder());
        return stream.ToArray();
    }

    public static byte[] Blank(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        return Png(image);
    }
}
