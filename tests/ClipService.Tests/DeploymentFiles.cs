using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace ClipService.Tests;

/// <summary>Reads the repository's deployment files: the Dockerfile's stages and YAML documents.</summary>
internal static partial class DeploymentFiles
{
    public static string Read(params string[] path) => File.ReadAllText(Path.Combine([ClipServiceFactory.RepositoryRoot, .. path]));

    /// <summary>The Dockerfile's stages by name, each with its instructions (continuation lines joined).</summary>
    public static IReadOnlyList<(string Name, string From, IReadOnlyList<string> Instructions)> DockerStages()
    {
        var joined = Read("Dockerfile").Replace("\\\n", " ", StringComparison.Ordinal);
        var stages = new List<(string, string, IReadOnlyList<string>)>();
        List<string>? current = null;
        foreach (var line in joined.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            if (FromLine().Match(line) is { Success: true } from)
            {
                current = [];
                stages.Add((from.Groups[2].Value, from.Groups[1].Value, current));
            }
            else
            {
                current?.Add(line);
            }
        }

        return stages;
    }

    /// <summary>The value of ENV NAME=value in a stage's instructions.</summary>
    public static string? Env(IReadOnlyList<string> instructions, string name) =>
        instructions.Where(i => i.StartsWith("ENV ", StringComparison.Ordinal))
            .Select(i => Regex.Match(i, $@"\b{Regex.Escape(name)}=(\S+)"))
            .FirstOrDefault(m => m.Success)?.Groups[1].Value;

    public static IReadOnlyList<YamlMappingNode> YamlDocuments(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    public static YamlNode? At(this YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
                return null;
            node = next;
        }

        return node;
    }

    public static string? Text(this YamlNode node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Items(this YamlNode node, params string[] path) =>
        node.At(path) is YamlSequenceNode sequence ? sequence.Children : [];

    /// <summary>Every key appsettings.json defines, in environment-variable form (Clip__Inference__MaxQueuedRequests).</summary>
    public static HashSet<string> SettingNames()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using var settings = System.Text.Json.JsonDocument.Parse(Read("src", "ClipService", "appsettings.json"));
        void Walk(System.Text.Json.JsonElement element, string prefix)
        {
            foreach (var property in element.EnumerateObject())
            {
                var name = prefix.Length == 0 ? property.Name : $"{prefix}__{property.Name}";
                names.Add(name);
                if (property.Value.ValueKind == System.Text.Json.JsonValueKind.Object)
                    Walk(property.Value, name);
            }
        }

        Walk(settings.RootElement, "");
        return names;
    }

    public static int Seconds(string? value, int fallback) =>
        value is null ? fallback : int.Parse(value.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^FROM (\S+) AS (\S+)$", RegexOptions.IgnoreCase)]
    private static partial Regex FromLine();
}
