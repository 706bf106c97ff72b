using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace JpegDecoders;

internal static class Inputs
{
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipService.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("ClipService.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Asset(params string[] parts) => Path.Combine([RepositoryRoot(), "tests", "assets", .. parts]);

    public static byte[] Photo12Mp() => File.ReadAllBytes(Asset("images", "photo_12mp.jpg"));

    /// <summary>The 1080p input of bench/ClipService.Benchmarks: the 12 MP photo resized to 1920×1440 by ImageSharp,
    /// the middle 1080 rows, re-encoded at quality 90.</summary>
    public static byte[] Crop1080p(byte[] photo)
    {
        using var image = SixLabors.ImageSharp.Image.Load<Rgb24>(photo);
        image.Mutate(x => x.Resize(1920, 1440).Crop(new Rectangle(0, 180, 1920, 1080)));
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }
}
