namespace ClipService.Core.Scoring;

/// <summary>Prompt templates: a label is put into each template at "{}".</summary>
public static class PromptTemplates
{
    public const string Placeholder = "{}";
    public const string Default = "a photo of a {}.";

    /// <summary>The seven templates OpenAI found best as an ensemble for ImageNet (CLIP's prompt-engineering notebook).</summary>
    public static readonly IReadOnlyList<string> ImageNet7 =
    [
        "itap of a {}.",
        "a bad photo of the {}.",
        "a origami {}.",
        "a photo of the large {}.",
        "a {} in a video game.",
        "art of the {}.",
        "a photo of the small {}.",
    ];

    /// <summary>Named template sets a request may ask for.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Named =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            ["default"] = [Default],
            ["imagenet7"] = ImageNet7,
        };

    public static bool IsValid(string template) =>
        template.Contains(Placeholder, StringComparison.Ordinal);

    public static string Apply(string template, string label) => template.Replace(Placeholder, label, StringComparison.Ordinal);
}
