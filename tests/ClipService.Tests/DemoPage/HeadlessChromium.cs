using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace ClipService.Tests.DemoPage;

/// <summary>
/// The machine's own Chromium and chromedriver (Debian's chromium and chromium-driver, which
/// tools/install_test_tools.sh installs), driven by Selenium with both paths given, so Selenium Manager never runs
/// and nothing is downloaded. CHROMIUM / CHROMEDRIVER override where they are looked for.
/// </summary>
internal static class HeadlessChromium
{
    public static string? BrowserPath { get; } = Find("CHROMIUM", "chromium", "chromium-browser", "google-chrome");
    public static string? DriverPath { get; } = Find("CHROMEDRIVER", "chromedriver");

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public static string? MissingReason { get; } =
        BrowserPath is null ? "Chromium is not installed (Debian package chromium; tools/install_test_tools.sh installs it)."
        : DriverPath is null ? "chromedriver is not installed (Debian package chromium-driver; tools/install_test_tools.sh installs it)."
        : null;

    /// <summary>A headless Chromium with a fresh profile in <paramref name="profile"/>, logging its console and network.</summary>
    public static ChromeDriver Start(string profile, int width, int height)
    {
        if (MissingReason is not null)
            throw new InvalidOperationException(MissingReason);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        // Root-safe, quiet headless: no sandbox (root), no GPU, and none of Chromium's own calls home.
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--hide-scrollbars", "--lang=en-GB", $"--user-data-dir={profile}",
            $"--window-size={width},{height}");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        options.SetLoggingPreference("performance", LogLevel.All);
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    private static string? Find(string variable, params string[] names)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured)
            return File.Exists(configured) ? configured : null;
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return names.SelectMany(name => folders.Select(folder => Path.Combine(folder, name))).FirstOrDefault(File.Exists);
    }
}

/// <summary>A test that needs headless Chromium; skipped, with the reason, where it is missing.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.MissingReason is { } reason)
            Skip = reason;
    }
}
