using System.Text;
using System.Text.Json;

namespace ClipService.Evaluation;

/// <summary>Data that cannot be evaluated: the command prints the message as one line and exits 2.</summary>
public sealed class EvaluationDataException(string message) : Exception(message);

/// <param name="Path">Relative to the data folder, '/'-separated: how reports name the image.</param>
public sealed record LabelledImage(string Path, string FullPath, string Label);

/// <param name="Captions">One or more, each a text query whose answer is this image.</param>
public sealed record CaptionedImage(string Path, string FullPath, IReadOnlyList<string> Captions);

/// <param name="Labels">The classes, in report order: the folders' order (ordinal), or first appearance in a manifest.</param>
public sealed record LabelledData(string Root, IReadOnlyList<LabelledImage> Images, IReadOnlyList<string> Labels);

public sealed record CaptionedData(string Root, IReadOnlyList<CaptionedImage> Images);

/// <summary>
/// Reads what <c>evaluate --data</c> names: an ImageFolder (a sub-folder per class, the folder name as the label
/// unless <c>classes.csv</c> maps it), or a manifest (.csv or .jsonl) of path,label or, for retrieval, path,caption.
/// Every file is handed to the service, which decides what it can read; hidden files are left out. Paths in a manifest
/// are relative to its folder and may not leave it.
/// </summary>
public static class EvaluationData
{
    public const string ClassesFile = "classes.csv";
    public static readonly string[] CaptionManifests = ["captions.csv", "captions.jsonl"];

    public static LabelledData LoadLabelled(string data, int? limitPerClass, int seed)
    {
        var full = Path.GetFullPath(data);
        LabelledData loaded;
        if (File.Exists(full))
        {
            var root = Path.GetDirectoryName(full)!;
            var rows = ReadManifest(full, "label");
            var images = rows.Select(r => new LabelledImage(r.Path, r.FullPath, r.Text)).ToList();
            loaded = new LabelledData(root, images, [.. images.Select(i => i.Label).Distinct(StringComparer.Ordinal)]);
        }
        else if (Directory.Exists(full))
            loaded = ReadImageFolder(full);
        else
            throw new EvaluationDataException($"--data '{data}' is neither a folder nor a manifest file.");

        if (loaded.Images.Count == 0)
            throw new EvaluationDataException($"--data '{data}' holds no images.");
        if (loaded.Labels.Count < 2)
            throw new EvaluationDataException($"--data '{data}' has one class only ('{loaded.Labels[0]}'); zero-shot classification needs at least two.");
        return limitPerClass is { } limit ? loaded with { Images = Limit(loaded.Images, limit, seed) } : loaded;
    }

    public static CaptionedData LoadCaptioned(string data)
    {
        var full = Path.GetFullPath(data);
        if (Directory.Exists(full))
        {
            full = CaptionManifests.Select(name => Path.Combine(full, name)).FirstOrDefault(File.Exists)
                ?? throw new EvaluationDataException($"--task retrieval: --data '{data}' is a folder without {string.Join(" or ", CaptionManifests)}; give a manifest of path,caption.");
        }
        else if (!File.Exists(full))
            throw new EvaluationDataException($"--data '{data}' is neither a folder nor a manifest file.");

        var rows = ReadManifest(full, "caption");
        var images = rows
            .GroupBy(r => r.Path, StringComparer.Ordinal)
            .Select(g => new CaptionedImage(g.Key, g.First().FullPath, [.. g.Select(r => r.Text)]))
            .ToList();
        if (images.Count < 2)
            throw new EvaluationDataException($"--data '{data}' has {images.Count} captioned image(s); retrieval needs at least two.");
        return new CaptionedData(Path.GetDirectoryName(full)!, images);
    }

    private static LabelledData ReadImageFolder(string root)
    {
        var folders = Directory.EnumerateDirectories(root)
            .Where(d => !IsHidden(d))
            .Select(d => Path.GetFileName(d)!)
            .Order(StringComparer.Ordinal)
            .ToList();
        var names = ReadClassNames(root, folders);
        var images = new List<LabelledImage>();
        foreach (var folder in folders)
        {
            var files = FilesBelow(Path.Combine(root, folder)).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new EvaluationDataException($"class folder '{folder}' in '{root}' is empty.");
            images.AddRange(files.Select(f => new LabelledImage(Relative(root, f), f, names[folder])));
        }

        var labels = folders.Select(f => names[f]).ToList();
        if (labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new EvaluationDataException($"{ClassesFile} gives the label '{twice.Key}' to more than one folder.");
        if (labels.Count == 0)
            throw new EvaluationDataException($"--data '{root}' has no class folders (one sub-folder per class).");
        return new LabelledData(root, images, labels);
    }

    private static Dictionary<string, string> ReadClassNames(string root, List<string> folders)
    {
        var names = folders.ToDictionary(f => f, f => f, StringComparer.Ordinal);
        var path = Path.Combine(root, ClassesFile);
        if (!File.Exists(path))
            return names;
        var mapped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (row, line) in Csv.Parse(File.ReadAllText(path, Encoding.UTF8)).Select((r, i) => (r, i + 1)))
        {
            if (line == 1 && row.Length > 0 && row[0].Trim().Equals("folder", StringComparison.OrdinalIgnoreCase) && !names.ContainsKey(row[0]))
                continue;
            if (row.Length < 2 || row[0].Length == 0 || row[1].Trim().Length == 0)
                throw new EvaluationDataException($"{ClassesFile} line {line}: expected folder,label.");
            if (!names.ContainsKey(row[0]))
                throw new EvaluationDataException($"{ClassesFile} line {line}: there is no class folder '{row[0]}'.");
            if (!mapped.Add(row[0]))
                throw new EvaluationDataException($"{ClassesFile} line {line}: the folder '{row[0]}' is mapped already.");
            names[row[0]] = row[1].Trim();
        }

        return names;
    }

    private readonly record struct ManifestRow(string Path, string FullPath, string Text);

    private static List<ManifestRow> ReadManifest(string manifest, string textColumn)
    {
        var root = Path.GetDirectoryName(manifest)!;
        var rows = new List<(string Path, string Text, int Line)>();
        var text = File.ReadAllText(manifest, Encoding.UTF8);
        if (manifest.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            var line = 0;
            foreach (var raw in text.Split('\n'))
            {
                line++;
                if (raw.Trim().Length == 0)
                    continue;
                try
                {
                    using var json = JsonDocument.Parse(raw);
                    var path = json.RootElement.GetProperty("path").GetString();
                    var value = json.RootElement.GetProperty(textColumn);
                    // Several captions may describe one image; an image has one label.
                    var texts = value.ValueKind == JsonValueKind.Array && textColumn == "caption" ? value.EnumerateArray().Select(v => v.GetString()).ToList() : [value.GetString()];
                    foreach (var t in texts)
                        rows.Add((path ?? "", t ?? "", line));
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    throw new EvaluationDataException($"{Path.GetFileName(manifest)} line {line}: expected {{\"path\": ..., \"{textColumn}\": ...}}.");
                }
            }
        }
        else if (manifest.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var (row, line) in Csv.Parse(text).Select((r, i) => (r, i + 1)))
            {
                if (line == 1 && row is ["path", ..])
                    continue;
                if (row.Length < 2)
                    throw new EvaluationDataException($"{Path.GetFileName(manifest)} line {line}: expected path,{textColumn}.");
                rows.Add((row[0], row[1], line));
            }
        }
        else
            throw new EvaluationDataException($"--data '{manifest}': a manifest is a .csv or .jsonl file.");

        var result = new List<ManifestRow>(rows.Count);
        var inside = RealPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (path, value, line) in rows)
        {
            if (path.Length == 0 || value.Trim().Length == 0)
                throw new EvaluationDataException($"{Path.GetFileName(manifest)} line {line}: the path and the {textColumn} must not be empty.");
            var full = Path.GetFullPath(Path.Combine(root, path));
            if (!RealPath(full).StartsWith(inside, StringComparison.Ordinal))
                throw new EvaluationDataException($"{Path.GetFileName(manifest)} line {line}: '{path}' is outside the data folder '{root}' (links resolved).");
            var relative = Relative(root, full);
            // Captions repeat a path on purpose (several per image); a label twice would count the image twice.
            if (textColumn == "label" && !firstLine.TryAdd(relative, line))
                throw new EvaluationDataException($"{Path.GetFileName(manifest)} line {line}: '{path}' is listed already (line {firstLine[relative]}).");
            result.Add(new ManifestRow(relative, full, value.Trim()));
        }

        return result;
    }

    private static List<LabelledImage> Limit(IReadOnlyList<LabelledImage> images, int perClass, int seed) =>
        images.GroupBy(i => i.Label, StringComparer.Ordinal)
            .SelectMany(g =>
            {
                var members = g.ToArray();
                new Random(seed).Shuffle(members);
                return members.Take(perClass);
            })
            .OrderBy(i => i.Path, StringComparer.Ordinal)
            .ToList();

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>
    /// The files below a class folder, hidden ones left out. Links to files are followed (a dataset of links is
    /// common); links to folders are not, so a loop or a link to / cannot multiply or mislabel the images.
    /// </summary>
    private static IEnumerable<string> FilesBelow(string folder)
    {
        var pending = new Stack<string>([folder]);
        while (pending.TryPop(out var directory))
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                if (IsHidden(entry.FullName))
                    continue;
                if (entry is DirectoryInfo sub)
                {
                    if (sub.LinkTarget is null)
                        pending.Push(sub.FullName);
                }
                else if (entry.LinkTarget is null || File.ResolveLinkTarget(entry.FullName, returnFinalTarget: true) is not DirectoryInfo)
                    yield return entry.FullName;
            }
        }
    }

    /// <summary>The path with every link in it resolved, so a manifest's check sees where a file really is.</summary>
    private static string RealPath(string path)
    {
        var real = Path.GetPathRoot(path)!;
        foreach (var part in path[real.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(real, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            real = info.LinkTarget is null ? next
                : (info is DirectoryInfo ? Directory.ResolveLinkTarget(next, returnFinalTarget: true) : File.ResolveLinkTarget(next, returnFinalTarget: true))?.FullName ?? next;
        }

        return real;
    }

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
}

/// <summary>RFC 4180 comma-separated values: quoted fields may hold commas, quotes ("") and line breaks.</summary>
public static class Csv
{
    public static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var i = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c != '"')
                    field.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"')
                    field.Append(text[++i]);
                else
                    quoted = false;
            }
            else if (c == '"')
                quoted = true;
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                    i++;
                EndRow();
            }
            else
                field.Append(c);
        }

        EndRow();
        return rows;

        void EndRow()
        {
            row.Add(field.ToString());
            field.Clear();
            if (row is not [""])
                rows.Add([.. row]);
            row.Clear();
        }
    }

    /// <summary>A field for a file people open in a spreadsheet: quoted when needed, control characters replaced, and
    /// a leading = + - @ neutralised with an apostrophe so that a label or file name is never run as a formula.</summary>
    public static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            value = "'" + value;
        if (value.Any(c => char.IsControl(c) && c is not ('\r' or '\n')))
            value = string.Concat(value.Select(c => char.IsControl(c) && c is not ('\r' or '\n') ? '\uFFFD' : c));
        return value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
