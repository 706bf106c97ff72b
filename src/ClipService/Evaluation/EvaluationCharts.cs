using System.Globalization;
using System.Text;
using static ClipService.Evaluation.EvaluationHtml;

namespace ClipService.Evaluation;

/// <summary>The inline SVG of report.html: confusion heatmaps and the reliability diagram. Kept lean (integer
/// coordinates, no per-element styles beyond a fill): a 100-class matrix is 10,000 cells per run.</summary>
internal static class EvaluationCharts
{
    /// <summary>Classes up to which a heatmap carries its counts as text in the cells.</summary>
    public const int CountsInCellsUpTo = 30;

    private const int MaxLabelChars = 28;

    /// <summary>Class indices with the most off-diagonal mass (confused as or for another class) first; ties in label order.</summary>
    public static int[] ByConfusion(ConfusionMatrix confusion)
    {
        var n = confusion.Labels.Count;
        var mass = new long[n];
        for (var t = 0; t < n; t++)
        {
            var row = confusion.Matrix[t];
            for (var p = 0; p < n; p++)
            {
                if (t == p)
                    continue;
                mass[t] += row[p];
                mass[p] += row[p];
            }
        }

        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => mass[b] != mass[a] ? mass[b].CompareTo(mass[a]) : a.CompareTo(b));
        return order;
    }

    /// <summary>The matrix restricted to <paramref name="classes"/> (rows and columns in that order), each cell
    /// coloured by its share of the true class's images (its whole row, shown or not), which its tooltip gives in %.</summary>
    public static void Heatmap(StringBuilder h, ConfusionMatrix confusion, ReadOnlySpan<int> classes, string kind)
    {
        var n = classes.Length;
        var cell = n <= CountsInCellsUpTo ? 26 : Math.Clamp(900 / Math.Max(n, 1), 6, 14);
        var font = Math.Min(11, cell - 1);
        var labels = new string[n];
        var labelWidth = 0;
        for (var i = 0; i < n; i++)
        {
            labels[i] = Shorten(confusion.Labels[classes[i]]);
            labelWidth = Math.Max(labelWidth, TextWidth(labels[i], font));
        }

        const string corner = "true \\ predicted";
        var origin = Math.Max(labelWidth, TextWidth(corner, font)) + 8;
        var size = origin + (n * cell) + 1;
        h.Append(Inv, $"<svg class=\"hm {kind}\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" font-size=\"{font}\" role=\"img\" aria-label=\"confusion matrix, {n} classes\">");
        h.Append(Inv, $"<text x=\"{origin - 4}\" y=\"{origin - 4}\" class=\"ax\">{corner}</text>");

        h.Append("<g class=\"rl\">");
        for (var i = 0; i < n; i++)
        {
            h.Append(Inv, $"<text x=\"{origin - 4}\" y=\"{origin + (i * cell) + ((cell + font) / 2) - 1}\">");
            LabelText(h, labels[i], confusion.Labels[classes[i]]);
        }

        h.Append("</g><g class=\"cl\">");
        for (var i = 0; i < n; i++)
        {
            h.Append(Inv, $"<text transform=\"translate({origin + (i * cell) + ((cell + font) / 2) - 1},{origin - 4})rotate(-90)\">");
            LabelText(h, labels[i], confusion.Labels[classes[i]]);
        }

        h.Append("</g><g fill=\"#f7fbff\">");
        var counts = n <= CountsInCellsUpTo ? new StringBuilder() : null;
        var names = new string[n];
        for (var i = 0; i < n; i++)
            names[i] = Encoded(confusion.Labels[classes[i]]);
        for (var r = 0; r < n; r++)
        {
            var row = confusion.Matrix[classes[r]];
            var total = 0L;
            foreach (var count in row)
                total += count;
            var y = origin + (r * cell);
            // A row's cells share their y: at 100 classes every byte of a cell is 10,000 bytes of a run.
            h.Append(Inv, $"<g transform=\"translate(0,{y})\">");
            for (var c = 0; c < n; c++)
            {
                var count = row[classes[c]];
                var share = total > 0 ? (double)count / total : 0;
                var x = origin + (c * cell);
                h.Append(Inv, $"<rect class=\"cell\" x=\"{x}\" width=\"{cell - 1}\" height=\"{cell - 1}\"");
                // Only a cell with images gets a fill and a tooltip: most of a large matrix is empty, and its
                // tooltips were most of the file.
                if (count > 0)
                {
                    h.Append(" fill=\"").Append(Blue(share)).Append("\"><title>").Append(names[r]).Append(" → ").Append(names[c])
                        .Append(Inv, $": {count} ({share * 100:0.#}%)</title></rect>");
                }
                else
                    h.Append("/>");
                if (counts is not null && count > 0)
                {
                    counts.Append(Inv, $"<text x=\"{x + ((cell - 1) / 2)}\" y=\"{y + ((cell + font) / 2) - 2}\"");
                    counts.Append(share > 0.35 ? " class=\"w\">" : ">").Append(Inv, $"{count}</text>");
                }
            }

            h.Append("</g>");
        }

        h.Append("</g>");
        if (counts is not null)
            h.Append("<g class=\"n\">").Append(counts).Append("</g>");
        h.Append("</svg>");
    }

    /// <summary>Accuracy per confidence bin as bars over the diagonal of perfect calibration, with the ECE.</summary>
    public static void Reliability(StringBuilder h, IReadOnlyList<ReliabilityBin> bins, double ece)
    {
        const int left = 40, top = 10, plot = 260, size = left + plot + 10;
        static double X(double v) => left + (v * plot);
        static double Y(double v) => top + plot - (v * plot);

        h.Append(Inv, $"<svg class=\"rel\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" role=\"img\" aria-label=\"reliability diagram\">");
        h.Append(Inv, $"<rect x=\"{left}\" y=\"{top}\" width=\"{plot}\" height=\"{plot}\" class=\"frame\"/>");
        foreach (var tick in (ReadOnlySpan<double>)[0, 0.25, 0.5, 0.75, 1])
        {
            h.Append(Inv, $"<text x=\"{X(tick):0.#}\" y=\"{top + plot + 14}\" class=\"mid\">{tick:0.##}</text>");
            h.Append(Inv, $"<text x=\"{left - 4}\" y=\"{Y(tick) + 4:0.#}\" class=\"end\">{tick:0.##}</text>");
        }

        h.Append(Inv, $"<text x=\"{left + (plot / 2)}\" y=\"{size - 2}\" class=\"mid\">confidence</text>");
        h.Append(Inv, $"<text transform=\"translate(10,{top + (plot / 2)})rotate(-90)\" class=\"mid\">accuracy</text>");
        foreach (var bin in bins)
        {
            if (bin.Count == 0)
                continue;
            var x = X(bin.Lower);
            var width = X(bin.Upper) - x;
            h.Append(Inv, $"<rect class=\"bin\" x=\"{x + 0.5:0.#}\" y=\"{Y(bin.Accuracy):0.#}\" width=\"{width - 1:0.#}\" height=\"{bin.Accuracy * plot:0.#}\">");
            h.Append(Inv, $"<title>({bin.Lower:0.###}, {bin.Upper:0.###}]: {bin.Count} images, accuracy {bin.Accuracy:0.###}, mean confidence {bin.Confidence:0.###}</title></rect>");
        }

        h.Append(Inv, $"<line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(1)}\" y2=\"{Y(1)}\" class=\"diag\"/>");
        h.Append(Inv, $"<text x=\"{left + 8}\" y=\"{top + 18}\" class=\"ece\">ECE {ece:0.000}</text>");
        h.Append("</svg>");
    }

    private static void LabelText(StringBuilder h, string shown, string label)
    {
        Encode(h, shown);
        if (!ReferenceEquals(shown, label))
        {
            h.Append("<title>");
            Encode(h, label);
            h.Append("</title>");
        }

        h.Append("</text>");
    }

    private static string Encoded(string text)
    {
        var encoded = new StringBuilder(text.Length + 8);
        Encode(encoded, text);
        return encoded.ToString();
    }

    private static string Shorten(string label) =>
        label.Length <= MaxLabelChars ? label : string.Concat(label.AsSpan(0, MaxLabelChars - 1), "…");

    // An estimate (no fonts are measured here): East Asian characters take about a full em, Latin about 0.6.
    private static int TextWidth(string text, int font)
    {
        var ems = 0.0;
        foreach (var c in text)
            ems += c >= '\u1100' ? 1.0 : 0.6;
        return (int)Math.Ceiling(ems * font);
    }

    // Light to dark blue through a middle stop, so that shares below 10% still stand out from empty cells.
    private static string Blue(double share)
    {
        ReadOnlySpan<(double R, double G, double B)> stops = [(222, 235, 247), (66, 146, 198), (8, 48, 107)];
        var t = Math.Sqrt(Math.Clamp(share, 0, 1)) * 2;
        var i = Math.Min((int)t, 1);
        var f = t - i;
        var (a, b) = (stops[i], stops[i + 1]);
        return string.Create(CultureInfo.InvariantCulture,
            $"#{(int)Math.Round(a.R + ((b.R - a.R) * f)):x2}{(int)Math.Round(a.G + ((b.G - a.G) * f)):x2}{(int)Math.Round(a.B + ((b.B - a.B) * f)):x2}");
    }
}
