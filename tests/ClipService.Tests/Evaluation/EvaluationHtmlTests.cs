using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ClipService.Evaluation;
using ClipService.Tests.DemoPage;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Xunit.Abstractions;

namespace ClipService.Tests.Evaluation;

/// <summary>report.html: self-contained, encoded, within its size and thumbnail budgets, and clean in a real Chromium.</summary>
public sealed partial class EvaluationHtmlTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string Images = Path.Combine(ClipServiceFactory.RepositoryRoot, "tests", "assets", "images");
    private static readonly Lazy<string> PhotoThumbnail = new(() =>
        new EvaluationThumbnails(Images).DataUri("photo.jpg") ?? throw new InvalidOperationException("photo.jpg gave no thumbnail"));

    private readonly string _folder = Directory.CreateTempSubdirectory("evaluation-html-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_page_references_nothing_outside_itself()
    {
        var html = EvaluationHtml.Render(SyntheticReports.Classification(40, 2_000), _ => PhotoThumbnail.Value);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<meta charset=\"utf-8\">", html, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"en\">", html, StringComparison.Ordinal);
        var references = ReferenceAttribute().Matches(html).Select(m => m.Groups["value"].Value).ToList();
        Assert.NotEmpty(references);
        Assert.All(references, value => Assert.True(value.StartsWith("data:", StringComparison.Ordinal) || value.StartsWith('#'), value));
        Assert.DoesNotMatch(@"(?i)(src|href)\s*=\s*[""']?\s*(https?:|//)", html);
    }

    [Fact]
    public void Every_string_from_the_report_is_html_encoded()
    {
        var report = SyntheticReports.Classification(6, 300, partial: true);
        var html = EvaluationHtml.Render(report, _ => null);

        Assert.DoesNotContain(SyntheticReports.HostileLabel, html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;&amp;&quot;x&quot;", html, StringComparison.Ordinal);
        Assert.Contains(SyntheticReports.ChineseLabel, html, StringComparison.Ordinal);
        Assert.Contains("<code>clipservice evaluate --data &#39;photos &amp; &lt;more&gt;&#39;", html, StringComparison.Ordinal);
        Assert.Contains("notes/&lt;readme&gt;.txt", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<more>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<readme>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_header_names_what_was_measured_and_flags_a_partial_run()
    {
        var report = SyntheticReports.Classification(6, 300, runs: 5, partial: true);
        var html = EvaluationHtml.Render(report, _ => null);

        Assert.Contains("PARTIAL", html, StringComparison.Ordinal);
        Assert.DoesNotContain("PARTIAL", EvaluationHtml.Render(report with { Partial = false }, _ => null), StringComparison.Ordinal);
        Assert.Contains("<code title=\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\">9f86d081884c</code>", html, StringComparison.Ordinal);
        Assert.Contains("2025-03-14 09:26:53 +01:00", html, StringComparison.Ordinal);
        Assert.Contains("1.4.0+abc1234", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"sig\">significant</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"ns\">not significant</td>", html, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(report.Runs[0].Confidence), html, StringComparison.Ordinal);
        Assert.Contains("Image → text", html, StringComparison.Ordinal);
        Assert.Contains("<section class=\"run\" id=\"r-run3\"><h2>run3: clip-vit-b32, imagenet80</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<details class=\"run\" id=\"r-run4\"><summary>run4: clip-vit-b32, imagenet80</summary>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#r-run5\">run5</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_retrieval_report_against_a_url_shows_its_recalls_and_no_classification_sections()
    {
        var classification = SyntheticReports.Classification(6, 300);
        var report = classification with
        {
            Task = "retrieval", Mode = "url", Url = "http://clip.internal:8080/", Runs = [], Comparisons = [],
            Models = [classification.Models[0] with { Digests = [] }],
        };
        var html = EvaluationHtml.Render(report, _ => throw new InvalidOperationException("no thumbnails in a retrieval report"));

        Assert.Contains("url: http://clip.internal:8080/", html, StringComparison.Ordinal);
        Assert.Contains("on the server (--url)", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"n\">50.0%</td><td class=\"n\">83.3%</td><td class=\"n\">100.0%</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Confusion matrix", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<h2>Runs</h2>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_matrix_is_shown_as_its_30_most_confused_classes_with_the_whole_one_collapsed()
    {
        var report = SyntheticReports.Classification(100, 10_000, runs: 1);
        var html = EvaluationHtml.Render(report, _ => null);

        var top = Svg(html, "hm top");
        var full = Svg(html, "hm full");
        Assert.Equal(30 * 30, Cells(top));
        Assert.Equal(100 * 100, Cells(full));
        Assert.Matches("<details><summary>All 100 × 100</summary><figure class=\"wide\"><svg class=\"hm full\"", html);
        // Counts are written in the cells of the 30 × 30 only; every cell with images has its count as a tooltip.
        Assert.Contains("<g class=\"n\">", top, StringComparison.Ordinal);
        Assert.DoesNotContain("<g class=\"n\">", full, StringComparison.Ordinal);
        Assert.Equal(report.Runs[0].Confusion.Matrix.Sum(row => row.Count(count => count > 0)), Regex.Count(full, "<title>[^<]*: \\d+"));

        // The most confused class heads both axes of both heatmaps.
        var mass = Enumerable.Range(0, 100).Select(c => Enumerable.Range(0, 100).Where(o => o != c)
            .Sum(o => report.Runs[0].Confusion.Matrix[c][o] + report.Runs[0].Confusion.Matrix[o][c])).ToList();
        var worst = WebUtility.HtmlEncode(SyntheticReports.Label(mass.IndexOf(mass.Max())));
        Assert.Contains($"<g class=\"rl\"><text x=\"", top, StringComparison.Ordinal);
        Assert.Matches($"<g class=\"rl\"><text [^>]*>{Regex.Escape(worst)}</text>", top);
        Assert.Matches($"<g class=\"cl\"><text [^>]*>{Regex.Escape(worst)}</text>", full);
    }

    [Fact]
    public void A_report_of_10000_images_at_100_classes_with_200_thumbnails_is_at_most_5_MB()
    {
        // A grid of 2 models x 2 templates: at 100 classes each run carries the 10,000 cells of its whole matrix.
        var html = EvaluationHtml.Render(SyntheticReports.Classification(100, 10_000, runs: 4), _ => PhotoThumbnail.Value);

        var bytes = Encoding.UTF8.GetByteCount(html);
        output.WriteLine($"10,000 images, 100 classes, 4 runs: {bytes:N0} bytes ({bytes / 1048576.0:0.00} MiB), " +
            $"{Regex.Count(html, "<img ")} thumbnails of {PhotoThumbnail.Value.Length:N0} characters each");
        Assert.Equal(EvaluationHtml.ThumbnailsPerReport, Regex.Count(html, "<img "));
        Assert.InRange(bytes, 1, 5_000_000);
    }

    [Fact]
    public void Thumbnails_are_capped_at_8_per_pair_and_200_per_report()
    {
        var asked = new List<string>();
        var report = SyntheticReports.Classification(30, 6_000, runs: 3, examplesPerPair: 12);
        Assert.Contains(report.Runs[0].MostConfused, pair => pair.Examples.Count > EvaluationHtml.ThumbnailsPerPair);
        var html = EvaluationHtml.Render(report, path => { asked.Add(path); return PhotoThumbnail.Value; });

        Assert.Equal(EvaluationHtml.ThumbnailsPerReport, Regex.Count(html, "<img "));
        var pairs = PairItem().Matches(html).Select(m => Regex.Count(m.Value, "<img ")).ToList();
        Assert.Equal(report.Runs.Sum(r => r.MostConfused.Count), pairs.Count);
        Assert.All(pairs, count => Assert.InRange(count, 0, EvaluationHtml.ThumbnailsPerPair));
        Assert.Equal(asked.Distinct().Count(), asked.Count);
        var first = report.Runs[0].MostConfused[0].Examples[0];
        Assert.Contains($"alt=\"{WebUtility.HtmlEncode(first)}\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_thumbnail_or_one_that_is_not_a_data_uri_shows_the_path_instead()
    {
        var report = SyntheticReports.Classification(6, 300, runs: 1);
        var html = EvaluationHtml.Render(report, path => path.Contains('3', StringComparison.Ordinal) ? "https://example.com/x.jpg" : null);

        Assert.Equal(0, Regex.Count(html, "<img "));
        Assert.DoesNotContain("example.com", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"miss\">unreadable: ", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_thumbnail_is_a_small_jpeg_data_uri_with_the_aspect_kept()
    {
        var uri = new EvaluationThumbnails(Images).DataUri("wide.png");

        Assert.NotNull(uri);
        Assert.StartsWith("data:image/jpeg;base64,", uri, StringComparison.Ordinal);
        var jpeg = Convert.FromBase64String(uri["data:image/jpeg;base64,".Length..]);
        var thumbnail = SixLabors.ImageSharp.Image.Identify(jpeg);
        var original = SixLabors.ImageSharp.Image.Identify(Path.Combine(Images, "wide.png"));
        Assert.Equal(EvaluationThumbnails.Size, Math.Max(thumbnail.Width, thumbnail.Height));
        Assert.Equal((double)original.Width / original.Height, (double)thumbnail.Width / thumbnail.Height, 0.1);
        Assert.InRange(PhotoThumbnail.Value.Length, 1_000, 12_000);
    }

    [Theory]
    [InlineData("../images/photo.jpg")]
    [InlineData("sub/../../images/photo.jpg")]
    [InlineData("..\\images\\photo.jpg")]
    [InlineData("/etc/passwd")]
    [InlineData("missing.jpg")]
    [InlineData("corrupt.jpg")]
    [InlineData("")]
    public void A_thumbnail_is_null_for_a_corrupt_or_missing_file_and_for_a_path_outside_the_folder(string path)
    {
        var data = Directory.CreateDirectory(Path.Combine(_folder, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "corrupt.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, (byte)'J', (byte)'F', 1, 2, 3]);
        Directory.CreateDirectory(Path.Combine(_folder, "images"));
        File.Copy(Path.Combine(Images, "photo.jpg"), Path.Combine(_folder, "images", "photo.jpg"));

        Assert.Null(new EvaluationThumbnails(data).DataUri(path));
        Assert.NotNull(new EvaluationThumbnails(Path.Combine(_folder, "images")).DataUri("photo.jpg"));
    }

    [ChromiumFact]
    public void A_small_report_opens_offline_without_errors_with_a_cell_per_pair_of_classes()
    {
        var report = SyntheticReports.Classification(6, 300, runs: 2);
        using var driver = Open(EvaluationHtml.Render(report, _ => PhotoThumbnail.Value), out var url);

        Assert.Equal(36L, Script(driver, "return document.querySelectorAll('#r-run1 svg.hm.full rect.cell').length"));
        Assert.Equal(0L, Script(driver, "return document.querySelectorAll('svg.hm.top').length"));
        Assert.True((long)Script(driver, "return document.querySelectorAll('img').length") > 0);
        Assert.Equal(0L, Script(driver, "return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).length"));
        AssertOnlyTheFileAndDataUrisWereRequested(driver, url);
        AssertNoConsoleErrors(driver);

        var path = SaveScreenshot(driver, "evaluation-report.png");
        output.WriteLine($"Screenshot: {path}");
    }

    [ChromiumFact]
    public void The_10000_image_report_loads_quickly_with_the_whole_matrix_in_its_closed_details()
    {
        var html = EvaluationHtml.Render(SyntheticReports.Classification(100, 10_000, runs: 3), _ => PhotoThumbnail.Value);
        var clock = Stopwatch.StartNew();
        using var driver = Open(html, out var url);
        var wall = clock.Elapsed;
        File.Copy(new Uri(url).LocalPath, Artifact("evaluation-report-10k.html"), overwrite: true);

        var loadEventEnd = Convert.ToDouble(Script(driver, "return performance.getEntriesByType('navigation')[0].loadEventEnd"), CultureInfo.InvariantCulture);
        output.WriteLine($"{Encoding.UTF8.GetByteCount(html):N0} bytes: loadEventEnd {loadEventEnd:0} ms after navigation start; " +
            $"browser start and navigation {wall.TotalMilliseconds:0} ms of wall time");
        Assert.Equal(10_000L, Script(driver, "return document.querySelectorAll('#r-run1 svg.hm.full rect.cell').length"));
        Assert.Equal(900L, Script(driver, "return document.querySelectorAll('#r-run1 svg.hm.top rect.cell').length"));
        Assert.Equal(false, Script(driver, "return document.querySelector('#r-run1 svg.hm.full').closest('details').open"));
        Assert.Equal((long)EvaluationHtml.ThumbnailsPerReport, Script(driver, "return document.images.length"));
        AssertOnlyTheFileAndDataUrisWereRequested(driver, url);
        AssertNoConsoleErrors(driver);
        // The target is 2 s; this bound only catches a page that hangs the browser.
        Assert.InRange(loadEventEnd, 0, 10_000);
    }

    private ChromeDriver Open(string html, out string url)
    {
        var file = Path.Combine(_folder, "report.html");
        File.WriteAllText(file, html, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        url = new Uri(file).AbsoluteUri;
        var driver = HeadlessChromium.Start(Path.Combine(_folder, "profile"), 1280, 900);
        try
        {
            // From here on the logs are this page's.
            driver.Manage().Logs.GetLog("performance");
            driver.Manage().Logs.GetLog(LogType.Browser);
            driver.Navigate().GoToUrl(url);
            return driver;
        }
        catch
        {
            driver.Dispose();
            throw;
        }
    }

    private static object Script(ChromeDriver driver, string script) =>
        driver.ExecuteScript(script) ?? throw new InvalidOperationException($"no value from {script}");

    private void AssertOnlyTheFileAndDataUrisWereRequested(ChromeDriver driver, string url)
    {
        var requested = driver.Manage().Logs.GetLog("performance")
            .Select(entry => JsonDocument.Parse(entry.Message).RootElement.GetProperty("message"))
            .Where(message => message.GetProperty("method").GetString() == "Network.requestWillBeSent")
            .Select(message => message.GetProperty("params").GetProperty("request").GetProperty("url").GetString()!)
            // The browser's own pages (its start page's chrome://resources) share the log; a file: page cannot load them.
            .Where(r => !r.StartsWith("chrome://", StringComparison.Ordinal) && !r.StartsWith("chrome-untrusted://", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(url, requested);
        Assert.All(requested, r => Assert.True(r == url || r.StartsWith("data:", StringComparison.Ordinal), $"the page requested {r}"));
        output.WriteLine($"{requested.Count} requests: the file and {requested.Count(r => r != url)} data: URIs");
    }

    private static void AssertNoConsoleErrors(ChromeDriver driver)
    {
        var errors = driver.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level == LogLevel.Severe).Select(e => e.Message).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    // The whole page, not just the window.
    private static string SaveScreenshot(ChromeDriver driver, string name)
    {
        var height = Convert.ToInt32(Script(driver, "return document.documentElement.scrollHeight"), CultureInfo.InvariantCulture);
        driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = 1280, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false,
        });
        var path = Artifact(name);
        driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    private static string Artifact(string name) =>
        Path.Combine(Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName, name);

    private static string Svg(string html, string classes)
    {
        var start = html.IndexOf($"<svg class=\"{classes}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no <svg class=\"{classes}\">");
        return html[start..(html.IndexOf("</svg>", start, StringComparison.Ordinal) + "</svg>".Length)];
    }

    private static int Cells(string svg) => Regex.Count(svg, "<rect class=\"cell\"");

    [GeneratedRegex(@"\s(?:src|href)\s*=\s*""(?<value>[^""]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex ReferenceAttribute();

    [GeneratedRegex(@"<li><b>.*?</li>", RegexOptions.Singleline)]
    private static partial Regex PairItem();
}
