namespace ClipService.Diagnostics;

/// <summary>The "Clip:Metrics" section.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Clip:Metrics";

    /// <summary>Whether GET /metrics needs the API key like the API does (when keys are configured). Off: scrapers need none.</summary>
    public bool RequireApiKey { get; set; }
}
