namespace ClipService.DemoPage;

/// <summary>The try-it page's switch, in the "Clip" section (Clip:EnableDemoPage, environment Clip__EnableDemoPage).</summary>
public sealed class DemoPageOptions
{
    public const string SectionName = "Clip";
    public const bool DefaultEnableDemoPage = true;

    /// <summary>Serve the try-it page at / (like Clip:EnableSwagger, something to turn off on a public deployment).</summary>
    public bool EnableDemoPage { get; set; } = DefaultEnableDemoPage;
}
