using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ClipService.Testing;

/// <summary>
/// Plain coloured-shape test pictures: one flat-coloured shape of a fixed RGB per colour name (jittered ±20) on a
/// plain, gradient or noisy background, without anti-aliasing, shading or texture. Simple and predictable, for the
/// service tests and benchmarks; the default model's varied evaluation pictures come from
/// VariedShapeImageGenerator.cs next to this file.
/// </summary>
public static class ShapeImageGenerator
{
    public static readonly IReadOnlyDictionary<string, (int R, int G, int B)> Colours = new Dictionary<string, (int, int, int)>
    {
        ["red"] = (220, 30, 30), ["green"] = (30, 160, 50), ["blue"] = (30, 60, 220), ["yellow"] = (240, 220, 30),
        ["orange"] = (245, 140, 20), ["purple"] = (140, 40, 180), ["black"] = (15, 15, 15), ["white"] = (245, 245, 245),
    };

    public static readonly IReadOnlyList<string> ColourNames = ["red", "green", "blue", "yellow", "orange", "purple", "black", "white"];
    public static readonly IReadOnlyList<string> Shapes = ["circle", "square", "triangle", "star", "cross", "ring"];

    private const int ColourJitter = 20;
    private const double MinBackgroundDistance = 110.0;
    private const double StarInnerRadius = 0.45;

    public static Image<Rgb24> Render(Random random, string colour, string shape, int width, int height)
    {
        var (r, g, b) = Colours[colour];
        var fg = new[] { Jitter(random, r), Jitter(random, g), Jitter(random, b) };
        var background = Background(random, fg, width, height);

        var side = Math.Min(width, height);
        var radius = Uniform(random, 0.15, 0.40) * side;
        var cx = (width - side) / 2.0 + Uniform(random, radius, side - radius);
        var cy = (height - side) / 2.0 + Uniform(random, radius, side - radius);
        var theta = Uniform(random, 0, 2 * Math.PI);
        var (cos, sin) = (Math.Cos(theta), Math.Sin(theta));

        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    var dx = x + 0.5 - cx;
                    var dy = y + 0.5 - cy;
                    var u = (dx * cos + dy * sin) / radius;
                    var v = (-dx * sin + dy * cos) / radius;
                    var inside = Contains(shape, u, v);
                    var pixel = background(x, y);
                    row[x] = inside
                        ? new Rgb24((byte)fg[0], (byte)fg[1], (byte)fg[2])
                        : new Rgb24(ToByte(pixel.R), ToByte(pixel.G), ToByte(pixel.B));
                }
            }
        });
        return image;
    }

    /// <summary>Membership of (u, v), in units of the shape's radius, centred on the shape.</summary>
    public static bool Contains(string shape, double u, double v)
    {
        switch (shape)
        {
            case "circle":
                return u * u + v * v <= 1.0;
            case "ring":
                var r2 = u * u + v * v;
                return r2 <= 1.0 && r2 >= 0.36;
            case "square":
                return Math.Abs(u) <= 0.75 && Math.Abs(v) <= 0.75;
            case "triangle":
                for (var k = 0; k < 3; k++)
                {
                    var phi = (-90 + 120 * k) * Math.PI / 180;
                    if (u * Math.Cos(phi) + v * Math.Sin(phi) > 0.5)
                        return false;
                }

                return true;
            case "cross":
                var (au, av) = (Math.Abs(u), Math.Abs(v));
                return (au <= 0.3 && av <= 0.9) || (au <= 0.9 && av <= 0.3);
            case "star":
                var radius = Math.Sqrt(u * u + v * v);
                var sector = 72 * Math.PI / 180;
                var angle = Math.Atan2(v, u) - Math.PI / 2;
                var wrapped = angle - sector * Math.Floor(angle / sector);
                var folded = Math.Abs(wrapped - sector / 2);
                var (px, py) = (radius * Math.Cos(folded), radius * Math.Sin(folded));
                var (ix, iy) = (StarInnerRadius * Math.Cos(36 * Math.PI / 180), StarInnerRadius * Math.Sin(36 * Math.PI / 180));
                return (ix - 1.0) * py - iy * (px - 1.0) >= 0.0;
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, null);
        }
    }

    public static (int Width, int Height) RandomSize(Random random, int smallest, int largest)
    {
        var shortSide = (int)Math.Round(Math.Exp(Uniform(random, Math.Log(smallest), Math.Log(largest))));
        if (random.NextDouble() < 0.5)
            return (shortSide, shortSide);
        var longSide = (int)Math.Round(shortSide * Uniform(random, 1.0, 1.8));
        return random.NextDouble() < 0.5 ? (longSide, shortSide) : (shortSide, longSide);
    }

    private static Func<int, int, (double R, double G, double B)> Background(Random random, int[] fg, int width, int height)
    {
        switch (random.Next(3))
        {
            case 0:
                var plain = FarColour(random, fg);
                return (_, _) => plain;
            case 1:
                var c1 = FarColour(random, fg);
                var c2 = FarColour(random, fg);
                var angle = Uniform(random, 0, 2 * Math.PI);
                return (x, y) =>
                {
                    var t = Math.Clamp(((x + 0.5) / width - 0.5) * Math.Cos(angle) + ((y + 0.5) / height - 0.5) * Math.Sin(angle) + 0.5, 0, 1);
                    return (c1.R * (1 - t) + c2.R * t, c1.G * (1 - t) + c2.G * t, c1.B * (1 - t) + c2.B * t);
                };
            default:
                var amplitude = Uniform(random, 10, 40);
                var baseColour = FarColour(random, fg);
                var noise = new Random(random.Next());
                return (_, _) => (baseColour.R + Uniform(noise, -amplitude, amplitude), baseColour.G + Uniform(noise, -amplitude, amplitude),
                    baseColour.B + Uniform(noise, -amplitude, amplitude));
        }
    }

    private static (double R, double G, double B) FarColour(Random random, int[] avoid)
    {
        while (true)
        {
            double r = random.Next(256), g = random.Next(256), b = random.Next(256);
            var distance = Math.Sqrt((r - avoid[0]) * (r - avoid[0]) + (g - avoid[1]) * (g - avoid[1]) + (b - avoid[2]) * (b - avoid[2]));
            if (distance >= MinBackgroundDistance)
                return (r, g, b);
        }
    }

    private static int Jitter(Random random, int value) => Math.Clamp(value + random.Next(-ColourJitter, ColourJitter + 1), 0, 255);

    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();

    private static byte ToByte(double value) => (byte)Math.Clamp(Math.Round(value, MidpointRounding.ToEven), 0, 255);
}
