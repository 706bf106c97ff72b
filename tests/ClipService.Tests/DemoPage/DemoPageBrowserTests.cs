using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Xunit.Abstractions;
using static ClipService.Tests.HttpAssertions;

namespace ClipService.Tests.DemoPage;

/// <summary>The try-it page in a real headless Chromium, against the service on a real port under a path base.</summary>
public sealed class DemoPageBrowserTests(DemoPageBrowser browser, ITestOutputHelper output) : IClassFixture<DemoPageBrowser>
{
    private static readonly string[] ShapeLabels = ["red circle", "blue square", "green triangle"];

    private ChromeDriver Driver => browser.Driver;

    [ChromiumFact]
    public async Task A_red_circle_ranks_red_circle_first_with_the_api_scores_descending_and_summing_to_one()
    {
        var redCircle = TestImages.Shape("red", "circle");
        OpenPage();
        SubmitShapeLabels("red-circle.png", redCircle);

        var results = Until(() => Driver.FindElements(By.CssSelector("#ranking .result")), r => r.Count > 0);
        var labels = results.Select(r => r.GetDomAttribute("data-label")).ToList();
        var scores = results.Select(r => double.Parse(r.GetDomAttribute("data-score") ?? "NaN", CultureInfo.InvariantCulture)).ToList();
        Assert.Equal("red circle", labels[0]);
        Assert.Equal(ShapeLabels.Order(), labels.Order());
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.InRange(scores.Sum(), 0.999, 1.001);
        Assert.Contains('%', results[0].Text);

        // The scores are the API's own, not rescaled: the same request made directly gives the same numbers.
        using var form = Form(redCircle, [.. ShapeLabels.Select(l => ("labels", l)), ("model", "clip-shapes")]);
        using var response = await browser.Api.PostAsync("classify", form);
        using var api = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var apiScores = api.RootElement.GetProperty("labels").EnumerateArray()
            .Select(l => (l.GetProperty("label").GetString(), l.GetProperty("score").GetDouble())).ToList();
        Assert.Equal(apiScores, labels.Zip(scores, (label, score) => (label, score)).ToList());

        Assert.Matches(@"image \d+\.\d ms, text \d+\.\d ms, total \d+\.\d ms", Driver.FindElement(By.Id("timings")).Text);
        Assert.Contains("sum to 100 %", Driver.FindElement(By.Id("scoring-note")).Text, StringComparison.Ordinal);
        var curl = Driver.FindElement(By.Id("curl")).GetDomProperty("value");
        Assert.Equal($"curl -F 'image=@red-circle.png' -F 'labels=red circle' -F 'labels=blue square' -F 'labels=green triangle' " +
            $"-F 'model=clip-shapes' '{browser.PageUrl}classify'", curl);

        SaveScreenshot("demo-page.png", 1280);
        AssertEveryRequestStayedOnTheServiceOrigin(expectedPath: "classify");
        AssertNoConsoleErrors();
    }

    [ChromiumFact]
    public async Task An_unsupported_file_shows_the_service_message_next_to_the_file_control()
    {
        var text = "just some notes, not a picture\n"u8.ToArray();
        var expected = await ApiProblemAsync(text, "notes.txt", System.Net.HttpStatusCode.UnsupportedMediaType);
        OpenPage();
        SubmitShapeLabels("notes.txt", text);

        AssertErrorBeside("image", expected);
        AssertEveryRequestStayedOnTheServiceOrigin(expectedPath: "classify");
    }

    [ChromiumFact]
    public async Task An_image_over_the_pixel_limit_shows_too_large_next_to_the_file_control()
    {
        var large = TestImages.Blank(1200, 1000);
        var expected = await ApiProblemAsync(large, "large.png", System.Net.HttpStatusCode.RequestEntityTooLarge);
        OpenPage();
        SubmitShapeLabels("large.png", large);

        AssertErrorBeside("image", expected);
        Assert.Contains("too large", Driver.FindElement(By.Id("image-error")).Text, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public void Submitting_without_labels_from_the_keyboard_shows_the_message_next_to_the_labels()
    {
        OpenPage();
        ChooseFile("red-circle.png", TestImages.Shape("red", "circle"));
        Driver.FindElement(By.Id("labels")).Clear();
        Driver.FindElement(By.Id("submit")).SendKeys(Keys.Enter);

        AssertErrorBeside("labels", "'labels' is required");
        // The message takes the keyboard to the control it is about.
        Assert.Equal("labels", Driver.SwitchTo().ActiveElement().GetDomAttribute("id"));
    }

    [ChromiumFact]
    public void An_api_key_is_kept_for_the_tab_and_sent_as_a_bearer_token()
    {
        OpenPage();
        var key = Driver.FindElement(By.Id("api-key"));
        key.SendKeys("test-key-123" + Keys.Tab);
        try
        {
            SubmitShapeLabels("red-circle.png", TestImages.Shape("red", "circle"));
            Until(() => Driver.FindElements(By.CssSelector("#ranking .result")), r => r.Count > 0);

            var classify = Requests().Single(r => r.Url.EndsWith("/classify", StringComparison.Ordinal));
            Assert.Equal("Bearer test-key-123", classify.Authorization);
            Assert.Contains("$CLIP_API_KEY", Driver.FindElement(By.Id("curl")).GetDomProperty("value"), StringComparison.Ordinal);
            Assert.DoesNotContain("test-key-123", Driver.FindElement(By.Id("curl")).GetDomProperty("value"), StringComparison.Ordinal);

            Driver.Navigate().Refresh();
            Assert.Equal("test-key-123", Driver.FindElement(By.Id("api-key")).GetDomProperty("value"));
        }
        finally
        {
            Driver.ExecuteScript("sessionStorage.clear()");
        }
    }

    [ChromiumFact]
    public void Every_control_is_labelled_and_the_page_fits_a_phone_screen()
    {
        OpenPage();
        var unlabelled = (IReadOnlyCollection<object>?)Driver.ExecuteScript(
            "return [...document.querySelectorAll('input, select, textarea')].filter(c => c.labels.length === 0).map(c => c.id)");
        Assert.Empty(unlabelled ?? ["the script returned nothing"]);

        Emulate(390, 844, phone: true);
        SubmitShapeLabels("red-circle.png", TestImages.Shape("red", "circle"));
        Until(() => Driver.FindElements(By.CssSelector("#ranking .result")), r => r.Count > 0);
        var overflow = Convert.ToInt64(Driver.ExecuteScript(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"), CultureInfo.InvariantCulture);
        SaveScreenshot("demo-page-phone.png", 390, phone: true);
        Assert.Equal(0, overflow);
    }

    private void OpenPage()
    {
        Driver.ExecuteCdpCommand("Emulation.clearDeviceMetricsOverride", []);
        // Each test checks the requests and console messages of its own page load onwards.
        Driver.Manage().Logs.GetLog("performance");
        Driver.Manage().Logs.GetLog(LogType.Browser);
        Driver.Navigate().GoToUrl(browser.PageUrl);
        // Ready once the model list from GET models has filled the picker.
        Until(() => Driver.ExecuteScript("return document.getElementById('model').value") as string, v => v == "clip-shapes");
    }

    // Chromium's windows are at least 500 px wide, so a phone's screen is emulated through DevTools.
    private void Emulate(int width, int height, bool phone) =>
        Driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = phone,
        });

    // Chooses the file, enters the three shape labels and presses the submit button.
    private void SubmitShapeLabels(string fileName, byte[] content)
    {
        ChooseFile(fileName, content);
        var labels = Driver.FindElement(By.Id("labels"));
        labels.Clear();
        labels.SendKeys(string.Join("\n", ShapeLabels));
        Driver.FindElement(By.CssSelector("button[type=submit]")).Click();
    }

    private void ChooseFile(string name, byte[] content)
    {
        var path = Path.Combine(browser.Files, name);
        File.WriteAllBytes(path, content);
        Driver.FindElement(By.Id("image")).SendKeys(path);
    }

    private T Until<T>(Func<T> read, Func<T, bool> done) =>
        new WebDriverWait(Driver, TimeSpan.FromSeconds(30)).Until(_ => read() is var value && done(value) ? value : default);

    private void AssertErrorBeside(string control, string expected)
    {
        var error = Until(() => Driver.FindElement(By.Id($"{control}-error")), e => e.Displayed);
        Assert.Contains(expected, error.Text, StringComparison.Ordinal);
        var input = Driver.FindElement(By.Id(control));
        Assert.Equal("true", input.GetDomAttribute("aria-invalid"));
        Assert.Contains($"{control}-error", input.GetDomAttribute("aria-describedby"), StringComparison.Ordinal);
        Assert.True(Driver.ExecuteScript("return arguments[0].closest('.field').contains(arguments[1])", input, error) is true,
            "the message is not in the control's field");
        Assert.Empty(Driver.FindElements(By.CssSelector("#ranking .result")));
    }

    private async Task<string> ApiProblemAsync(byte[] image, string fileName, System.Net.HttpStatusCode status)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(image), "image", fileName);
        foreach (var label in ShapeLabels)
            form.Add(new StringContent(label), "labels");
        using var response = await browser.Api.PostAsync("classify", form);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem.GetProperty("detail").GetString()!;
    }

    private sealed record Request(string Url, string? Authorization);

    // Every request Chromium sent since the page was opened, from its network log (data: and blob: URLs included).
    private List<Request> Requests() =>
        [.. Driver.Manage().Logs.GetLog("performance")
            .Select(entry => JsonDocument.Parse(entry.Message).RootElement.GetProperty("message"))
            .Where(message => message.GetProperty("method").GetString() == "Network.requestWillBeSent")
            .Select(message => message.GetProperty("params").GetProperty("request"))
            .Select(request => new Request(request.GetProperty("url").GetString()!,
                request.GetProperty("headers").TryGetProperty("Authorization", out var auth) ? auth.GetString() : null))];

    private void AssertEveryRequestStayedOnTheServiceOrigin(string expectedPath)
    {
        var urls = Requests().Select(r => r.Url).ToList();
        Assert.Contains(urls, url => url == $"{browser.PageUrl}{expectedPath}");
        var origin = browser.Origin.GetLeftPart(UriPartial.Authority);
        foreach (var url in urls.Where(u => !u.StartsWith("data:", StringComparison.Ordinal)))
        {
            var sameOrigin = url.StartsWith($"blob:{origin}/", StringComparison.Ordinal) || url.StartsWith(browser.PageUrl.ToString(), StringComparison.Ordinal);
            Assert.True(sameOrigin, $"the page requested {url}, outside {browser.PageUrl}");
        }

        output.WriteLine($"{urls.Count} requests, all under {browser.PageUrl}: {string.Join(", ", urls)}");
    }

    private void AssertNoConsoleErrors()
    {
        // GET label-sets answers 404 on a service without label sets; the page expects that and carries on.
        var errors = Driver.Manage().Logs.GetLog(LogType.Browser)
            .Where(e => e.Level == LogLevel.Severe && !e.Message.Contains($"{browser.PageUrl}label-sets ", StringComparison.Ordinal))
            .Select(e => e.Message).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    // The whole page at the given width, into the test output's screenshots folder.
    private void SaveScreenshot(string name, int width, bool phone = false)
    {
        Emulate(width, 800, phone);
        var height = Convert.ToInt32(Driver.ExecuteScript("window.scrollTo(0, 0); return document.documentElement.scrollHeight"), CultureInfo.InvariantCulture);
        Emulate(width, height, phone);
        var folder = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;
        var path = Path.Combine(folder, name);
        Driver.GetScreenshot().SaveAsFile(path);
        Driver.ExecuteCdpCommand("Emulation.clearDeviceMetricsOverride", []);
        output.WriteLine($"Screenshot: {path}");
    }
}
