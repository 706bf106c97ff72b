using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace ClipService.Testing;

/// <summary>
/// Coloured-shape pictures as varied as the ones users and other renderers make, written independently of the
/// default model's training renderer (tools/clipkit/shapes.py) so that its pictures are ones the model never saw:
/// another random number generator (System.Random), another rasteriser (coverage from signed distances instead
/// of a supersampled polygon fill), colours from HSL ranges instead of HSV ones, its own background textures,
/// shading, shadows, blur and noise, and ImageSharp's JPEG encoder instead of libjpeg.
/// </summary>
public static class VariedShapeImageGenerator
{
    public sealed record Picture(string Colour, string Shape, string Format, int Width, int Height, byte[] Bytes);

    private sealed record HslRange(double HueFrom, double HueTo, double SaturationFrom, double SaturationTo, double LightnessFrom, double LightnessTo);

    // Hue in degrees (may start below 0 to wrap through red); dark and light shades of each name.
    private static readonly Dictionary<string, HslRange> ColourRanges = new()
    {
        ["red"] = new(-8, 5, 0.65, 1.0, 0.28, 0.62),
        ["green"] = new(95, 145, 0.45, 0.9, 0.2, 0.6),
        ["blue"] = new(208, 240, 0.6, 1.0, 0.25, 0.68),
        ["yellow"] = new(50, 58, 0.85, 1.0, 0.45, 0.7),
        ["orange"] = new(25, 35, 0.85, 1.0, 0.45, 0.6),
        ["purple"] = new(268, 292, 0.45, 0.85, 0.25, 0.62),
        ["black"] = new(0, 360, 0.0, 0.3, 0.02, 0.12),
        ["white"] = new(0, 360, 0.0, 0.3, 0.94, 1.0),
    };

    private const double MinBackgroundDistance = 130;
    private const double MinBackgroundHueDifference = 45;

    /// <summary>
    /// One picture: a canvas of 48–640 px (aspect up to 1.6:1), the shape in the central square at 30–80% of the
    /// short side, encoded as PNG or as JPEG of quality 55–95, sometimes decoded and encoded again.
    /// </summary>
    public static Picture Create(Random random, string colour, string shape)
    {
        var shortSide = (int)Math.Round(Math.Exp(Uniform(random, Math.Log(48), Math.Log(640))));
        var longSide = (int)Math.Round(shortSide * Uniform(random, 1.0, 1.6));
        var (width, height) = random.NextDouble() < 0.5 ? (longSide, shortSide) : (shortSide, longSide);
        using var image = Render(random, colour, shape, width, height);
        var (format, bytes) = Encode(random, image);
        return new Picture(colour, shape, format, width, height, bytes);
    }

    public static Image<Rgb24> Render(Random random, string colour, string shape, int width, int height)
    {
        var fg = SampleColour(random, ColourRanges[colour]);
        var pixels = Background(random, fg, width, height);

        var side = Math.Min(width, height);
        var radius = Uniform(random, 0.15, 0.40) * side;
        var cx = width / 2.0 + Uniform(random, -1, 1) * (side / 2.0 - radius);
        var cy = height / 2.0 + Uniform(random, -1, 1) * (side / 2.0 - radius);
        var outline = Outline.Create(random, shape);
        var shape2D = new PlacedShape(outline, cx, cy, radius, Uniform(random, 0, 2 * Math.PI));

        if (random.NextDouble() < 0.3)
            DropShadow(random, pixels, width, height, shape2D);
        Paint(random, pixels, width, height, shape2D, fg, colour == "white");
        if (random.NextDouble() < 0.3)
            Blur(pixels, width, height, random.Next(1, 3));
        if (random.NextDouble() < 0.4)
            AddSensorNoise(random, pixels, Uniform(random, 2, 8));

        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    var i = (y * width + x) * 3;
                    row[x] = new Rgb24(ToByte(pixels[i]), ToByte(pixels[i + 1]), ToByte(pixels[i + 2]));
                }
            }
        });
        return image;
    }

    private static (string Format, byte[] Bytes) Encode(Random random, Image<Rgb24> image)
    {
        if (random.NextDouble() < 0.3)
            return ("PNG", Save(image, new PngEncoder()));
        var bytes = Save(image, new JpegEncoder { Quality = random.Next(55, 96) });
        if (random.NextDouble() >= 0.3)
            return ("JPEG", bytes);
        using var decoded = Image.Load<Rgb24>(bytes);
        return ("JPEG re-encoded", Save(decoded, new JpegEncoder { Quality = random.Next(55, 96) }));
    }

    private static byte[] Save(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    /// <summary>A shape's boundary in units of its radius, as a signed distance (negative inside).</summary>
    private sealed class Outline
    {
        private readonly Func<double, double, double> _distance;

        private Outline(Func<double, double, double> distance) => _distance = distance;

        public double Distance(double u, double v) => _distance(u, v);

        public static Outline Create(Random random, string shape)
        {
            var filled = shape switch
            {
                "circle" => new Outline((u, v) => Math.Sqrt(u * u + v * v) - 1),
                "ring" => Ring(Uniform(random, 0.4, 0.78)),
                "square" => Square(Uniform(random, 0.68, 0.78)),
                "triangle" => Polygon([.. Enumerable.Range(0, 3).Select(k => Polar(1, -Math.PI / 2 + k * 2 * Math.PI / 3))]),
                "star" => Star(Uniform(random, 0.38, 0.52)),
                "cross" => Cross(Uniform(random, 0.2, 0.36), Uniform(random, 0.9, 1.0)),
                _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
            };
            if (shape is "circle" or "ring" || random.NextDouble() >= 0.15)
                return filled;
            var stroke = Uniform(random, 0.04, 0.09);
            return new Outline((u, v) => Math.Abs(filled.Distance(u, v)) - stroke);
        }

        private static Outline Ring(double inner) => new((u, v) =>
        {
            var r = Math.Sqrt(u * u + v * v);
            return Math.Max(r - 1, inner - r);
        });

        private static Outline Square(double half) => new((u, v) => BoxDistance(u, v, half, half));

        private static Outline Cross(double arm, double length) =>
            new((u, v) => Math.Min(BoxDistance(u, v, arm, length), BoxDistance(u, v, length, arm)));

        private static Outline Star(double inner) =>
            Polygon([.. Enumerable.Range(0, 10).Select(k => Polar(k % 2 == 0 ? 1 : inner, -Math.PI / 2 + k * Math.PI / 5))]);

        private static (double X, double Y) Polar(double r, double angle) => (r * Math.Cos(angle), r * Math.Sin(angle));

        private static double BoxDistance(double u, double v, double halfWidth, double halfHeight)
        {
            var dx = Math.Abs(u) - halfWidth;
            var dy = Math.Abs(v) - halfHeight;
            var outside = Math.Sqrt(Math.Max(dx, 0) * Math.Max(dx, 0) + Math.Max(dy, 0) * Math.Max(dy, 0));
            return outside + Math.Min(Math.Max(dx, dy), 0);
        }

        /// <summary>Distance to the nearest edge, negative inside (even-odd crossing test).</summary>
        private static Outline Polygon((double X, double Y)[] points) => new((u, v) =>
        {
            var nearest = double.MaxValue;
            var inside = false;
            for (int i = 0, j = points.Length - 1; i < points.Length; j = i++)
            {
                var (ax, ay) = points[j];
                var (bx, by) = points[i];
                var (ex, ey) = (bx - ax, by - ay);
                var t = Math.Clamp(((u - ax) * ex + (v - ay) * ey) / (ex * ex + ey * ey), 0, 1);
                var (px, py) = (u - ax - t * ex, v - ay - t * ey);
                nearest = Math.Min(nearest, px * px + py * py);
                if ((ay > v) != (by > v) && u < ax + (v - ay) * ex / ey)
                    inside = !inside;
            }

            return inside ? -Math.Sqrt(nearest) : Math.Sqrt(nearest);
        });
    }

    private sealed record PlacedShape(Outline Outline, double Cx, double Cy, double Radius, double Angle)
    {
        /// <summary>Signed distance in pixels from a pixel centre to the shape's edge.</summary>
        public double PixelDistance(double x, double y, double offsetX = 0, double offsetY = 0)
        {
            var (dx, dy) = (x - Cx - offsetX, y - Cy - offsetY);
            var (cos, sin) = (Math.Cos(Angle), Math.Sin(Angle));
            return Outline.Distance((dx * cos + dy * sin) / Radius, (-dx * sin + dy * cos) / Radius) * Radius;
        }

        public (int X0, int Y0, int X1, int Y1) Bounds(int width, int height, double margin) =>
            (Math.Max(0, (int)(Cx - Radius * 1.5 - margin)), Math.Max(0, (int)(Cy - Radius * 1.5 - margin)),
                Math.Min(width, (int)(Cx + Radius * 1.5 + margin) + 1), Math.Min(height, (int)(Cy + Radius * 1.5 + margin) + 1));
    }

    private static void DropShadow(Random random, double[] pixels, int width, int height, PlacedShape shape)
    {
        var distance = Uniform(random, 0.05, 0.12) * shape.Radius;
        var direction = Uniform(random, 0, 2 * Math.PI);
        var softness = Math.Max(1, Uniform(random, 0.04, 0.12) * shape.Radius);
        var opacity = Uniform(random, 0.25, 0.55);
        var (x0, y0, x1, y1) = shape.Bounds(width, height, distance + 3 * softness);
        for (var y = y0; y < y1; y++)
        {
            for (var x = x0; x < x1; x++)
            {
                var d = shape.PixelDistance(x + 0.5, y + 0.5, distance * Math.Cos(direction), distance * Math.Sin(direction));
                var cover = Math.Clamp(0.5 - d / (2 * softness), 0, 1);
                var i = (y * width + x) * 3;
                for (var c = 0; c < 3; c++)
                    pixels[i + c] *= 1 - opacity * cover;
            }
        }
    }

    /// <summary>The shape in its colour, lit from one side and a little brighter towards a highlight.</summary>
    private static void Paint(Random random, double[] pixels, int width, int height, PlacedShape shape, double[] fg, bool white)
    {
        var lightAngle = Uniform(random, 0, 2 * Math.PI);
        var lightStrength = Uniform(random, 0, 0.25);
        var highlight = random.NextDouble() < 0.5 ? Uniform(random, 0, 0.2) : 0;
        var (x0, y0, x1, y1) = shape.Bounds(width, height, 2);
        for (var y = y0; y < y1; y++)
        {
            for (var x = x0; x < x1; x++)
            {
                var cover = Math.Clamp(0.5 - shape.PixelDistance(x + 0.5, y + 0.5), 0, 1);
                if (cover <= 0)
                    continue;
                var (u, v) = ((x + 0.5 - shape.Cx) / shape.Radius, (y + 0.5 - shape.Cy) / shape.Radius);
                var light = lightStrength * (u * Math.Cos(lightAngle) + v * Math.Sin(lightAngle)) / 2
                    + highlight * Math.Max(0, 1 - ((u + 0.35) * (u + 0.35) + (v + 0.35) * (v + 0.35)));
                var i = (y * width + x) * 3;
                for (var c = 0; c < 3; c++)
                {
                    // Towards white when lit, towards black in shade; white stays white.
                    var lit = light >= 0 ? fg[c] + (255 - fg[c]) * light : fg[c] * (1 + (white ? light / 4 : light));
                    pixels[i + c] = pixels[i + c] * (1 - cover) + lit * cover;
                }
            }
        }
    }

    private static double[] Background(Random random, double[] fg, int width, int height)
    {
        var pixels = new double[width * height * 3];
        var c1 = FarColour(random, fg);
        Func<double, double, double[]> colourAt;
        switch (random.Next(7))
        {
            case 0:
                colourAt = (_, _) => c1;
                break;
            case 1:
            {
                var c2 = FarColour(random, fg);
                var angle = Uniform(random, 0, 2 * Math.PI);
                colourAt = (x, y) => Mix(c1, c2, Math.Clamp((x / width - 0.5) * Math.Cos(angle) + (y / height - 0.5) * Math.Sin(angle) + 0.5, 0, 1));
                break;
            }

            case 2:
            {
                var c2 = FarColour(random, fg);
                var (ox, oy) = (Uniform(random, 0.2, 0.8) * width, Uniform(random, 0.2, 0.8) * height);
                var reach = Uniform(random, 0.5, 1.0) * Math.Max(width, height);
                colourAt = (x, y) => Mix(c1, c2, Math.Min(1, Math.Sqrt((x - ox) * (x - ox) + (y - oy) * (y - oy)) / reach));
                break;
            }

            case 3:
            {
                var noise = new ValueNoise(random, random.Next(3, 9));
                var amplitude = Uniform(random, 15, 40);
                colourAt = (x, y) => Shift(c1, amplitude * noise.At(x / width, y / height));
                break;
            }

            case 4:
            {
                var period = Uniform(random, 4, 40) * Math.Max(1, Math.Min(width, height) / 200.0);
                var angle = Uniform(random, 0, Math.PI);
                var contrast = Uniform(random, 8, 25);
                colourAt = (x, y) => Shift(c1, contrast * Math.Sign(Math.Sin(2 * Math.PI * (x * Math.Cos(angle) + y * Math.Sin(angle)) / period)));
                break;
            }

            case 5:
            {
                var cell = Uniform(random, 4, 40) * Math.Max(1, Math.Min(width, height) / 200.0);
                var contrast = Uniform(random, 8, 25);
                colourAt = (x, y) => Shift(c1, ((int)Math.Floor(x / cell) + (int)Math.Floor(y / cell)) % 2 == 0 ? contrast : -contrast);
                break;
            }

            default:
            {
                var paper = new[] { Uniform(random, 225, 250), Uniform(random, 220, 245), Uniform(random, 205, 235) };
                var sheet = Distance(paper, fg) >= MinBackgroundDistance ? paper : c1;
                var grain = new Random(random.Next());
                var tone = new ValueNoise(random, 3);
                var amount = Uniform(random, 3, 9);
                colourAt = (x, y) => Shift(sheet, 8 * tone.At(x / width, y / height) + amount * (grain.NextDouble() * 2 - 1));
                break;
            }
        }

        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var c = colourAt(x + 0.5, y + 0.5);
                var i = (y * width + x) * 3;
                (pixels[i], pixels[i + 1], pixels[i + 2]) = (c[0], c[1], c[2]);
            }
        }

        return pixels;
    }

    /// <summary>Smooth random field in [-1, 1] over the unit square: random lattice values, smoothstep blended.</summary>
    private sealed class ValueNoise(Random random, int cells)
    {
        private readonly double[] _lattice = [.. Enumerable.Range(0, (cells + 1) * (cells + 1)).Select(_ => random.NextDouble() * 2 - 1)];

        public double At(double u, double v)
        {
            var (gx, gy) = (Math.Clamp(u, 0, 1) * cells, Math.Clamp(v, 0, 1) * cells);
            var (ix, iy) = (Math.Min((int)gx, cells - 1), Math.Min((int)gy, cells - 1));
            var (fx, fy) = (Smooth(gx - ix), Smooth(gy - iy));
            var top = _lattice[iy * (cells + 1) + ix] * (1 - fx) + _lattice[iy * (cells + 1) + ix + 1] * fx;
            var bottom = _lattice[(iy + 1) * (cells + 1) + ix] * (1 - fx) + _lattice[(iy + 1) * (cells + 1) + ix + 1] * fx;
            return top * (1 - fy) + bottom * fy;
        }

        private static double Smooth(double t) => t * t * (3 - 2 * t);
    }

    private static void Blur(double[] pixels, int width, int height, int passes)
    {
        var scratch = new double[pixels.Length];
        for (var pass = 0; pass < passes; pass++)
        {
            BinomialPass(pixels, scratch, width, height, 3, 3 * width);
            BinomialPass(scratch, pixels, width, height, 3 * width, 3);
        }
    }

    /// <summary>A [1 2 1] / 4 pass along one axis (edges repeated).</summary>
    private static void BinomialPass(double[] from, double[] to, int width, int height, int step, int otherStep)
    {
        var (length, lines) = step == 3 ? (width, height) : (height, width);
        for (var line = 0; line < lines; line++)
        {
            var start = line * otherStep;
            for (var k = 0; k < length; k++)
            {
                var i = start + k * step;
                var before = k > 0 ? i - step : i;
                var after = k < length - 1 ? i + step : i;
                for (var c = 0; c < 3; c++)
                    to[i + c] = (from[before + c] + 2 * from[i + c] + from[after + c]) / 4;
            }
        }
    }

    private static void AddSensorNoise(Random random, double[] pixels, double sigma)
    {
        for (var i = 0; i < pixels.Length; i++)
        {
            // Box–Muller.
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            pixels[i] += sigma * gaussian;
        }
    }

    private static double[] SampleColour(Random random, HslRange range)
    {
        var hue = (Uniform(random, range.HueFrom, range.HueTo) % 360 + 360) % 360;
        return FromHsl(hue, Uniform(random, range.SaturationFrom, range.SaturationTo), Uniform(random, range.LightnessFrom, range.LightnessTo));
    }

    /// <summary>A background colour no one would call by the shape's colour name.</summary>
    private static double[] FarColour(Random random, double[] fg)
    {
        while (true)
        {
            var candidate = random.Next(3) switch
            {
                0 => FromHsl(Uniform(random, 0, 360), Uniform(random, 0, 0.25), Uniform(random, 0.3, 0.95)),
                1 => FromHsl(Uniform(random, 0, 360), Uniform(random, 0.3, 0.9), Uniform(random, 0.25, 0.85)),
                _ => new[] { random.Next(256) * 1.0, random.Next(256), random.Next(256) },
            };
            if (Distance(candidate, fg) >= MinBackgroundDistance && !SameHue(candidate, fg))
                return candidate;
        }
    }

    private static bool SameHue(double[] a, double[] b)
    {
        var (ha, sa, la) = ToHsl(a);
        var (hb, sb, lb) = ToHsl(b);
        if (sa < 0.3 || sb < 0.3 || la is < 0.15 or > 0.9 || lb is < 0.15 or > 0.9)
            return false;
        var difference = Math.Abs(ha - hb);
        return Math.Min(difference, 360 - difference) < MinBackgroundHueDifference;
    }

    private static double[] FromHsl(double hue, double saturation, double lightness)
    {
        var chroma = (1 - Math.Abs(2 * lightness - 1)) * saturation;
        var h = hue / 60;
        var x = chroma * (1 - Math.Abs(h % 2 - 1));
        var (r, g, b) = (int)h switch
        {
            0 => (chroma, x, 0.0),
            1 => (x, chroma, 0.0),
            2 => (0.0, chroma, x),
            3 => (0.0, x, chroma),
            4 => (x, 0.0, chroma),
            _ => (chroma, 0.0, x),
        };
        var m = lightness - chroma / 2;
        return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
    }

    private static (double Hue, double Saturation, double Lightness) ToHsl(double[] rgb)
    {
        var (r, g, b) = (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255);
        var max = Math.Max(r, Math.Max(g, b));
        var min = Math.Min(r, Math.Min(g, b));
        var lightness = (max + min) / 2;
        var chroma = max - min;
        if (chroma < 1e-9)
            return (0, 0, lightness);
        var saturation = chroma / (1 - Math.Abs(2 * lightness - 1));
        var hue = max == r ? 60 * ((g - b) / chroma % 6) : max == g ? 60 * ((b - r) / chroma + 2) : 60 * ((r - g) / chroma + 4);
        return ((hue + 360) % 360, saturation, lightness);
    }

    private static double[] Mix(double[] a, double[] b, double t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

    private static double[] Shift(double[] c, double amount) => [c[0] + amount, c[1] + amount, c[2] + amount];

    private static double Distance(double[] a, double[] b) =>
        Math.Sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));

    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();

    private static byte ToByte(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
