using System.Globalization;
using System.Text;

namespace ClipService.Evaluation;

/// <summary>report.html: the report as one self-contained page that opens offline (inline CSS and SVG, thumbnails as
/// data URIs, no script), every string from the report HTML-encoded.</summary>
public static class EvaluationHtml
{
    /// <summary>Thumbnails shown per confused pair.</summary>
    public const int ThumbnailsPerPair = 8;

    /// <summary>Thumbnails in the whole page, which keeps a large report within a few megabytes.</summary>
    public const int ThumbnailsPerReport = 200;

    internal static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private const string Style = """
        :root{color:#1b1f24;background:#fff;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",Arial,sans-serif}
        body{margin:0 auto;padding:1.5em 2em 4em;max-width:1200px}
        h1{font-size:1.6em;margin:0 0 .4em}h2{font-size:1.3em;margin:2em 0 .5em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}h3{font-size:1.05em;margin:1.5em 0 .4em}
        code{font:.92em ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;background:#f3f4f6;padding:.1em .3em;border-radius:3px;overflow-wrap:anywhere}
        dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}dl.meta dt{color:#57606a}dl.meta dd{margin:0}
        .partial{background:#fff3cd;border:1px solid #d4a72c;color:#5c4400;padding:.6em 1em;border-radius:4px;font-weight:600}
        table{border-collapse:collapse;margin:.4em 0}th,td{border-bottom:1px solid #d8dee4;padding:.25em .6em;text-align:left;vertical-align:top}
        th{background:#f6f8fa;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .ci{color:#57606a;font-size:.88em}.sig{color:#0a6b2d;font-weight:600}.ns{color:#57606a}
        .scroll{max-height:30em;overflow:auto;border:1px solid #d8dee4}.scroll table{margin:0}.scroll th{position:sticky;top:0}
        .wide{overflow-x:auto}
        .b{width:12em;height:.8em;background:#eef1f4;display:inline-block;vertical-align:middle}.b i{display:block;height:100%;background:#3b7dd8}
        details{margin:.6em 0}summary{cursor:pointer;color:#0b57d0}details.run>summary{font-size:1.15em;font-weight:600;color:#1b1f24}
        .charts{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}figure{margin:.4em 0}figcaption{color:#57606a;max-width:40em;font-size:.92em}
        svg text{fill:#1b1f24}.rl text,.end{text-anchor:end}.mid{text-anchor:middle}.n text{text-anchor:middle;font-size:9px}.n text.w{fill:#fff}.ax{text-anchor:end;fill:#57606a;font-style:italic}
        .frame{fill:#fafbfc;stroke:#d0d7de}.bin{fill:#3b7dd8;fill-opacity:.8}.diag{stroke:#cf222e;stroke-dasharray:4 3}.ece{font-weight:600}
        ol.pairs{padding-left:1.4em}ol.pairs li{margin:.6em 0}.thumbs{display:flex;flex-wrap:wrap;gap:4px;margin-top:.2em}
        .thumbs img{max-width:96px;max-height:96px;border:1px solid #d0d7de}.miss{font-size:.85em;color:#8c2f00;border:1px dashed #d0d7de;padding:.2em .4em;max-width:12em;overflow-wrap:anywhere}
        """;

    /// <param name="thumbnail">A data URI of the image at a path relative to the data folder, or null when it cannot be read.</param>
    public static string Render(EvaluationReport report, Func<string, string?> thumbnail)
    {
        var h = new StringBuilder(64 * 1024);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
        // An empty icon: otherwise the browser asks the file system (or a server the file is put on) for favicon.ico.
        h.Append("<link rel=\"icon\" href=\"data:,\">");
        h.Append("<title>Evaluation: ");
        Encode(h, report.Data);
        h.Append("</title><style>").Append(Style).Append("</style></head><body>\n");

        Header(h, report);
        Models(h, report.Models);
        if (report.Runs.Count > 0)
        {
            Summary(h, report);
            Comparisons(h, report.Comparisons);
            EvaluationRunHtml.Runs(h, report, thumbnail);
        }

        Retrieval(h, report.RetrievalRuns);
        Skipped(h, report.Skipped);
        h.Append("</body></html>\n");
        return h.ToString();
    }

    private static void Header(StringBuilder h, EvaluationReport report)
    {
        h.Append("<header><h1>Evaluation report</h1>");
        if (report.Partial)
            h.Append("<p class=\"partial\">PARTIAL: the run was interrupted; the figures cover the images done before it.</p>");
        h.Append("<dl class=\"meta\"><dt>Command</dt><dd><code>");
        Encode(h, report.Command);
        h.Append("</code></dd>");
        Item(h, "Task", report.Task);
        Item(h, "Data", report.Data);
        Item(h, "Images", report.Images.ToString("N0", Inv) + (report.Skipped.Count > 0 ? $" ({report.Skipped.Count.ToString("N0", Inv)} skipped)" : ""));
        Item(h, "Started", Date(report.Started));
        Item(h, "Finished", $"{Date(report.Finished)} ({Duration(report.Finished - report.Started)})");
        Item(h, "Mode", report.Url is { } url ? $"{report.Mode}: {url}" : report.Mode);
        Item(h, "Service", report.ServiceVersion);
        Item(h, "Top-k, seed", $"{report.TopK}, {report.Seed}");
        h.Append("</dl></header>\n");
    }

    private static void Models(StringBuilder h, IReadOnlyList<EvaluatedModel> models)
    {
        if (models.Count == 0)
            return;
        h.Append("<h2>Models</h2><table><thead><tr><th>Model</th><th>Family</th><th>Scoring</th><th>Provider</th><th>Files (SHA-256)</th></tr></thead><tbody>");
        foreach (var model in models)
        {
            h.Append("<tr>");
            Cell(h, model.Name);
            Cell(h, model.Family);
            Cell(h, model.Scoring);
            Cell(h, model.Provider);
            h.Append("<td>");
            if (model.Digests.Count == 0)
                h.Append("<span class=\"ci\">on the server (--url)</span>");
            foreach (var digest in model.Digests)
            {
                h.Append("<div>");
                Encode(h, digest.Path);
                h.Append(" <code title=\"");
                Encode(h, digest.Sha256);
                h.Append("\">");
                Encode(h, digest.Sha256.Length > 12 ? digest.Sha256[..12] : digest.Sha256);
                h.Append("</code> <span class=\"ci\">").Append(Bytes(digest.Bytes)).Append("</span></div>");
            }

            h.Append("</td></tr>");
        }

        h.Append("</tbody></table>\n");
    }

    private static void Summary(StringBuilder h, EvaluationReport report)
    {
        h.Append("<h2>Runs</h2><div class=\"wide\"><table><thead><tr><th>Run</th><th>Model</th><th>Template</th><th class=\"n\">Images</th>");
        h.Append(Inv, $"<th class=\"n\">Top-1 [95% CI]</th><th class=\"n\">Top-{report.TopK}</th><th class=\"n\">Mean per-class recall [95% CI]</th>");
        h.Append("<th class=\"n\">ECE</th><th class=\"n\">Images/s</th><th class=\"n\">Latency p50 / p95</th></tr></thead><tbody>");
        foreach (var run in report.Runs)
        {
            h.Append("<tr><td><a href=\"#").Append(Anchor(run.Id)).Append("\">");
            Encode(h, run.Id);
            h.Append("</a></td>");
            Cell(h, run.Model);
            Cell(h, run.Template);
            h.Append(Inv, $"<td class=\"n\">{run.Images:N0}</td>");
            h.Append(Inv, $"<td class=\"n\">{Pct(run.Top1)} <span class=\"ci\">[{Pct(run.Ci95.Top1.Low)}, {Pct(run.Ci95.Top1.High)}]</span></td>");
            h.Append(Inv, $"<td class=\"n\">{Pct(run.TopK)}</td>");
            h.Append(Inv, $"<td class=\"n\">{Pct(run.MeanPerClassRecall)} <span class=\"ci\">[{Pct(run.Ci95.MeanPerClassRecall.Low)}, {Pct(run.Ci95.MeanPerClassRecall.High)}]</span></td>");
            h.Append(Inv, $"<td class=\"n\">{run.Ece:0.000}</td><td class=\"n\">{run.ImagesPerSecond:0.0}</td>");
            h.Append(Inv, $"<td class=\"n\">{run.LatencyMs.P50:0.0} / {run.LatencyMs.P95:0.0} ms</td></tr>");
        }

        h.Append("</tbody></table></div>\n");
    }

    private static void Comparisons(StringBuilder h, IReadOnlyList<RunComparison> comparisons)
    {
        if (comparisons.Count == 0)
            return;
        h.Append("<h3>Comparisons (paired bootstrap of top-1)</h3><table><thead><tr><th>A</th><th>B</th>");
        h.Append("<th class=\"n\">B − A</th><th class=\"n\">95% CI</th><th>Verdict</th></tr></thead><tbody>");
        foreach (var comparison in comparisons)
        {
            h.Append("<tr>");
            Cell(h, comparison.A);
            Cell(h, comparison.B);
            h.Append(Inv, $"<td class=\"n\">{Points(comparison.Top1Difference)}</td>");
            h.Append(Inv, $"<td class=\"n\">[{Points(comparison.Ci95.Low)}, {Points(comparison.Ci95.High)}]</td>");
            h.Append(comparison.Significant ? "<td class=\"sig\">significant</td>" : "<td class=\"ns\">not significant</td>");
            h.Append("</tr>");
        }

        h.Append("</tbody></table>\n");
    }

    private static void Retrieval(StringBuilder h, IReadOnlyList<RetrievalRun> runs)
    {
        if (runs.Count == 0)
            return;
        h.Append("<h2>Retrieval</h2><div class=\"wide\"><table><thead><tr><th rowspan=\"2\">Run</th><th rowspan=\"2\">Model</th><th rowspan=\"2\">Template</th>");
        h.Append("<th class=\"n\" rowspan=\"2\">Images</th><th class=\"n\" rowspan=\"2\">Captions</th><th colspan=\"3\">Image → text</th><th colspan=\"3\">Text → image</th>");
        h.Append("<th class=\"n\" rowspan=\"2\">Images/s</th><th class=\"n\" rowspan=\"2\">Latency p50 / p95</th></tr><tr>");
        h.Append("<th class=\"n\">R@1</th><th class=\"n\">R@5</th><th class=\"n\">R@10</th><th class=\"n\">R@1</th><th class=\"n\">R@5</th><th class=\"n\">R@10</th></tr></thead><tbody>");
        foreach (var run in runs)
        {
            h.Append("<tr>");
            Cell(h, run.Id);
            Cell(h, run.Model);
            Cell(h, run.Template);
            h.Append(Inv, $"<td class=\"n\">{run.Images:N0}</td><td class=\"n\">{run.Captions:N0}</td>");
            foreach (var recall in (ReadOnlySpan<RecallAtK>)[run.ImageToText, run.TextToImage])
                h.Append(Inv, $"<td class=\"n\">{Pct(recall.R1)}</td><td class=\"n\">{Pct(recall.R5)}</td><td class=\"n\">{Pct(recall.R10)}</td>");
            h.Append(Inv, $"<td class=\"n\">{run.ImagesPerSecond:0.0}</td><td class=\"n\">{run.LatencyMs.P50:0.0} / {run.LatencyMs.P95:0.0} ms</td></tr>");
        }

        h.Append("</tbody></table></div>\n");
    }

    private static void Skipped(StringBuilder h, IReadOnlyList<SkippedImage> skipped)
    {
        if (skipped.Count == 0)
            return;
        h.Append(Inv, $"<h2>Skipped images</h2><details{(skipped.Count <= 20 ? " open" : "")}><summary>{skipped.Count:N0} skipped</summary>");
        h.Append("<div class=\"scroll\"><table><thead><tr><th>Path</th><th>Reason</th></tr></thead><tbody>");
        foreach (var image in skipped)
        {
            h.Append("<tr>");
            Cell(h, image.Path);
            Cell(h, image.Reason);
            h.Append("</tr>");
        }

        h.Append("</tbody></table></div></details>\n");
    }

    /// <summary>Appends <paramref name="text"/> HTML-encoded, fit for element content and quoted attributes alike;
    /// everything else (Chinese included) is kept as is: the page is UTF-8.</summary>
    internal static void Encode(StringBuilder h, string? text)
    {
        foreach (var c in text ?? "")
        {
            _ = c switch
            {
                '&' => h.Append("&amp;"),
                '<' => h.Append("&lt;"),
                '>' => h.Append("&gt;"),
                '"' => h.Append("&quot;"),
                '\'' => h.Append("&#39;"),
                // File names may hold control characters (ESC of an ANSI sequence); HTML has no use for them.
                _ when char.IsControl(c) && c is not ('\t' or '\n') => h.Append('\uFFFD'),
                _ => h.Append(c),
            };
        }
    }

    private static void Item(StringBuilder h, string term, string value)
    {
        h.Append("<dt>").Append(term).Append("</dt><dd>");
        Encode(h, value);
        h.Append("</dd>");
    }

    internal static void Cell(StringBuilder h, string text)
    {
        h.Append("<td>");
        Encode(h, text);
        h.Append("</td>");
    }

    // Run ids are "run1", ...; anything else is reduced to characters that need no encoding in an id and a fragment.
    internal static string Anchor(string id) =>
        "r-" + string.Concat(id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c.ToString() : "_"));

    internal static string Pct(double share) => (share * 100).ToString("0.0", Inv) + "%";

    private static string Points(double difference) => (difference * 100).ToString("+0.0;−0.0;0.0", Inv) + " pp";

    private static string Date(DateTimeOffset date) => date.ToString("yyyy-MM-dd HH:mm:ss zzz", Inv);

    private static string Duration(TimeSpan duration) =>
        duration.TotalHours >= 1 ? duration.ToString(@"h\:mm\:ss", Inv) : duration.ToString(@"m\:ss", Inv);

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1 << 20 => (bytes / 1048576.0).ToString("0.0", Inv) + " MB",
        >= 1 << 10 => (bytes / 1024.0).ToString("0.0", Inv) + " KB",
        _ => bytes.ToString(Inv) + " B",
    };
}
