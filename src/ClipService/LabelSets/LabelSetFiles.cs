using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ClipService.Core.Scoring;

namespace ClipService.LabelSets;

/// <summary>A label-set file that cannot be used; the message names the file and the reason.</summary>
public sealed class LabelSetFileException(string message) : Exception(message);

/// <summary>Reads label-set JSON: the built-in ones compiled into the service and NAME.json files in a folder.</summary>
internal static class LabelSetFiles
{
    public const string BuiltInSource = "built-in";

    private const string ResourcePrefix = "labelsets/";
    private static readonly JsonSerializerOptions s_json = new() { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private sealed record FileContent(List<string>? Labels, List<string>? Templates, string? Description, string? Language);

    public static IEnumerable<LabelSet> BuiltIn(int maxLabels)
    {
        var assembly = typeof(LabelSetFiles).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            yield return Parse(Path.GetFileNameWithoutExtension(resource), reader.ReadToEnd(), BuiltInSource, maxLabels);
        }
    }

    /// <summary>The NAME.json files directly in <paramref name="folder"/>, with the problem of each one that cannot be used.</summary>
    public static (List<LabelSet> Sets, List<string> Problems) ReadFolder(string folder, int maxLabels)
    {
        var sets = new List<LabelSet>();
        var problems = new List<string>();
        if (!Directory.Exists(folder))
            return (sets, [$"Clip:LabelSetsPath '{folder}' is not a folder."]);
        foreach (var file in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                sets.Add(Parse(Path.GetFileNameWithoutExtension(file), File.ReadAllText(file), file, maxLabels));
            }
            catch (Exception e) when (e is LabelSetFileException or IOException or UnauthorizedAccessException)
            {
                problems.Add(e.Message);
            }
        }

        return (sets, problems);
    }

    public static LabelSet Parse(string name, string json, string source, int maxLabels)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new LabelSetFileException($"Label set '{source}': the name '{name}' may only hold letters, digits, '-', '_' and '.'.");
        FileContent? content;
        try
        {
            content = JsonSerializer.Deserialize<FileContent>(json, s_json);
        }
        catch (JsonException e)
        {
            throw new LabelSetFileException($"Label set '{source}': invalid JSON ({e.Message}).");
        }

        var labels = content?.Labels;
        if (labels is null || labels.Count == 0)
            throw new LabelSetFileException($"Label set '{source}': \"labels\" must be a non-empty list of strings.");
        if (labels.Count > maxLabels)
            throw new LabelSetFileException($"Label set '{source}': {labels.Count} labels, more than Clip:MaxLabelsPerSet ({maxLabels}).");
        if (labels.Any(string.IsNullOrWhiteSpace))
            throw new LabelSetFileException($"Label set '{source}': a label is empty.");
        var templates = content!.Templates is { Count: > 0 } given ? given : null;
        if (templates?.FirstOrDefault(t => t is null || !PromptTemplates.IsValid(t)) is { } invalid)
            throw new LabelSetFileException($"Label set '{source}': the template '{invalid}' has no {PromptTemplates.Placeholder}.");

        if (content.Language is { } language && (language.Length is < 2 or > 3 || !language.All(char.IsAsciiLetterLower)))
            throw new LabelSetFileException($"Label set '{source}': \"language\" must be a language code (ISO 639) such as \"en\" or \"zh\", not '{Errors.Echo.Of(language, 20)}'.");

        var version = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)), 0, 8);
        return new LabelSet(name, [.. labels.Select(l => l.Trim())], templates, content.Description, source, version, content.Language);
    }
}
