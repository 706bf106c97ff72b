using System.Text;
using static ClipService.Evaluation.EvaluationHtml;

namespace ClipService.Evaluation;

/// <summary>report.html's section per classification run: confusion heatmaps, per-class recall, reliability and the
/// worst confusions with their thumbnails, within the page's thumbnail budget.</summary>
internal static class EvaluationRunHtml
{
    /// <summary>Runs shown open; later ones are collapsed, so that a large grid stays quick to open.</summary>
    private const int OpenRuns = 3;

    /// <summary>Confused pairs shown open per run; the rest are collapsed below them.</summary>
    private const int OpenPairs = 5;

    public static void Runs(StringBuilder h, EvaluationReport report, Func<string, string?> thumbnail)
    {
        var thumbnails = new Thumbnails(thumbnail);
        for (var i = 0; i < report.Runs.Count; i++)
            Run(h, report, report.Runs[i], thumbnails, open: i < OpenRuns);
    }

    private static void Run(StringBuilder h, EvaluationReport report, ClassificationRun run, Thumbnails thumbnails, bool open)
    {
        var anchor = Anchor(run.Id);
        h.Append(open ? $"<section class=\"run\" id=\"{anchor}\"><h2>" : $"<details class=\"run\" id=\"{anchor}\"><summary>");
        Encode(h, run.Id);
        h.Append(": ");
        Encode(h, run.Model);
        h.Append(", ");
        Encode(h, run.Template);
        h.Append(open ? "</h2>" : "</summary>");
        h.Append(Inv, $"<p>{run.Images:N0} images; top-1 {Pct(run.Top1)}, top-{report.TopK} {Pct(run.TopK)}; ");
        Encode(h, run.Family);
        h.Append(", ");
        Encode(h, run.Scoring);
        h.Append(" scoring; ").Append(run.Templates.Count <= 1 ? "template " : $"{run.Templates.Count} templates ensembled, the first ");
        h.Append("<code>");
        Encode(h, run.Templates.Count > 0 ? run.Templates[0] : run.Template);
        h.Append("</code>.</p>");

        Confusion(h, run.Confusion);
        h.Append("<div class=\"charts\">");
        PerClass(h, run.PerClass);
        h.Append("<figure><h3>Reliability</h3>");
        EvaluationCharts.Reliability(h, run.Reliability, run.Ece);
        h.Append("<figcaption>");
        Encode(h, run.Confidence);
        h.Append(" Bars: accuracy per confidence bin; dashed: perfect calibration.</figcaption></figure></div>");
        MostConfused(h, run.MostConfused, thumbnails);
        h.Append(open ? "</section>\n" : "</details>\n");
    }

    private static void Confusion(StringBuilder h, ConfusionMatrix confusion)
    {
        var order = EvaluationCharts.ByConfusion(confusion);
        var n = order.Length;
        h.Append("<h3>Confusion matrix</h3>");
        if (n > EvaluationCharts.CountsInCellsUpTo)
        {
            var top = EvaluationCharts.CountsInCellsUpTo;
            h.Append("<figure class=\"wide\">");
            EvaluationCharts.Heatmap(h, confusion, order.AsSpan(0, top), "top");
            h.Append(Inv, $"<figcaption>The {top} most confused of {n} classes (most first), rows true, columns predicted; colour: share of the true class's images.</figcaption></figure>");
            h.Append(Inv, $"<details><summary>All {n} × {n}</summary><figure class=\"wide\">");
            EvaluationCharts.Heatmap(h, confusion, order, "full");
            h.Append("</figure></details>");
        }
        else
        {
            h.Append("<figure class=\"wide\">");
            EvaluationCharts.Heatmap(h, confusion, order, "full");
            h.Append("<figcaption>Rows true, columns predicted, most confused classes first; colour: share of the true class's images.</figcaption></figure>");
        }
    }

    private static void PerClass(StringBuilder h, IReadOnlyList<ClassMetrics> perClass)
    {
        // Worst first; classes without images have no recall and go last.
        var sorted = perClass.OrderBy(c => c.Support == 0).ThenBy(c => c.Recall).ThenBy(c => c.Label, StringComparer.Ordinal);
        h.Append("<figure><h3>Per class, worst recall first</h3><div class=\"scroll\"><table><thead><tr><th>Class</th><th>Recall</th><th class=\"n\"></th>");
        h.Append("<th class=\"n\">Precision</th><th class=\"n\">F1</th><th class=\"n\">Support</th></tr></thead><tbody>");
        foreach (var c in sorted)
        {
            h.Append("<tr>");
            Cell(h, c.Label);
            if (c.Support == 0)
                h.Append("<td></td><td class=\"n\">–</td>");
            else
                h.Append(Inv, $"<td><span class=\"b\"><i style=\"width:{c.Recall * 100:0.#}%\"></i></span></td><td class=\"n\">{Pct(c.Recall)}</td>");
            h.Append(Inv, $"<td class=\"n\">{Pct(c.Precision)}</td><td class=\"n\">{c.F1:0.000}</td><td class=\"n\">{c.Support:N0}</td></tr>");
        }

        h.Append("</tbody></table></div></figure>");
    }

    private static void MostConfused(StringBuilder h, IReadOnlyList<ConfusedPair> pairs, Thumbnails thumbnails)
    {
        if (pairs.Count == 0)
            return;
        h.Append("<h3>Worst confusions</h3><ol class=\"pairs\">");
        for (var i = 0; i < pairs.Count; i++)
        {
            var pair = pairs[i];
            if (i == OpenPairs)
                h.Append(Inv, $"</ol><details><summary>{pairs.Count - OpenPairs} more</summary><ol class=\"pairs\" start=\"{OpenPairs + 1}\">");
            h.Append("<li><b>");
            Encode(h, pair.True);
            h.Append("</b> taken for <b>");
            Encode(h, pair.Predicted);
            h.Append(Inv, $"</b>: {pair.Count:N0} {(pair.Count == 1 ? "image" : "images")}");
            var examples = pair.Examples.Take(EvaluationHtml.ThumbnailsPerPair).ToList();
            if (examples.Count > 0)
            {
                h.Append("<div class=\"thumbs\">");
                foreach (var path in examples)
                {
                    if (!thumbnails.CanShow)
                    {
                        h.Append(Inv, $"<span class=\"ci\">no more thumbnails: the report shows at most {EvaluationHtml.ThumbnailsPerReport}</span>");
                        break;
                    }

                    Thumbnail(h, path, thumbnails.Get(path));
                }

                h.Append("</div>");
            }

            h.Append("</li>");
        }

        h.Append(pairs.Count > OpenPairs ? "</ol></details>" : "</ol>");
    }

    private static void Thumbnail(StringBuilder h, string path, string? uri)
    {
        if (uri is null)
        {
            h.Append("<span class=\"miss\">unreadable: ");
            Encode(h, path);
            h.Append("</span>");
            return;
        }

        h.Append("<img src=\"");
        Encode(h, uri);
        h.Append("\" alt=\"");
        Encode(h, path);
        h.Append("\" title=\"");
        Encode(h, path);
        h.Append("\">");
    }

    /// <summary>Thumbnails by path, each made once however many pairs show it, at most <see cref="EvaluationHtml.ThumbnailsPerReport"/> shown.</summary>
    private sealed class Thumbnails(Func<string, string?> make)
    {
        private readonly Dictionary<string, string?> _made = new(StringComparer.Ordinal);
        private int _shown;

        public bool CanShow => _shown < EvaluationHtml.ThumbnailsPerReport;

        public string? Get(string path)
        {
            if (!_made.TryGetValue(path, out var uri))
            {
                uri = make(path);
                // Only an image's own bytes go into src: anything but a data URI of an image would reach outside the file.
                if (uri is not null && !uri.StartsWith("data:image/", StringComparison.Ordinal))
                    uri = null;
                _made[path] = uri;
            }

            if (uri is not null)
                _shown++;
            return uri;
        }
    }
}
