using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace ClipService.LabelSets;

/// <summary>
/// The label sets a request may name: the built-in ones, and the files in Clip:LabelSetsPath, read at start and
/// again whenever a file there changes. A file that becomes invalid keeps its last good version (and the problem is
/// logged), so a half-written edit never takes a set away. A file may not take a built-in set's name.
/// </summary>
public sealed partial class LabelSetCatalog : IDisposable
{
    private readonly Dictionary<string, LabelSet> _builtIn;
    private readonly string? _folder;
    private readonly int _maxLabels;
    private readonly ILogger<LabelSetCatalog> _logger;
    private readonly PhysicalFileProvider? _files;
    private readonly IDisposable? _watch;
    private readonly Lock _reloading = new();
    private volatile IReadOnlyDictionary<string, LabelSet> _sets;

    public LabelSetCatalog(IOptions<LabelSetOptions> options, ILogger<LabelSetCatalog> logger)
    {
        _logger = logger;
        _maxLabels = options.Value.MaxLabelsPerSet;
        _builtIn = LabelSetFiles.BuiltIn(_maxLabels).ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
        _sets = _builtIn;
        if (options.Value.LabelSetsPath is { Length: > 0 } path)
        {
            _folder = Path.GetFullPath(path);
            Reload();
            _files = new PhysicalFileProvider(_folder);
            _watch = ChangeToken.OnChange(() => _files.Watch("*.json"), Reload);
        }
    }

    /// <summary>Every set, by name.</summary>
    public IReadOnlyCollection<LabelSet> All => (IReadOnlyCollection<LabelSet>)_sets.Values;

    public bool TryGet(string name, out LabelSet set) => _sets.TryGetValue(name, out set!);

    /// <summary>Problems with the folder's files, for validation at start (an empty list when all are usable).</summary>
    internal static List<string> Check(LabelSetOptions options)
    {
        if (options.LabelSetsPath is not { Length: > 0 } path)
            return [];
        var (sets, problems) = LabelSetFiles.ReadFolder(Path.GetFullPath(path), options.MaxLabelsPerSet);
        var builtIn = LabelSetFiles.BuiltIn(options.MaxLabelsPerSet).Select(s => s.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        problems.AddRange(sets.Where(s => builtIn.Contains(s.Name)).Select(s => $"Label set '{s.Source}': '{s.Name}' is a built-in set's name."));
        return problems;
    }

    private void Reload()
    {
        lock (_reloading)
        {
            var (read, problems) = LabelSetFiles.ReadFolder(_folder!, _maxLabels);
            var sets = new Dictionary<string, LabelSet>(_builtIn, StringComparer.OrdinalIgnoreCase);
            foreach (var set in read)
            {
                if (_builtIn.ContainsKey(set.Name))
                    problems.Add($"Label set '{set.Source}': '{set.Name}' is a built-in set's name; the file is ignored.");
                else
                    sets[set.Name] = set;
            }

            // A file that fails to read now but was read before (an editor mid-save) keeps its last good version.
            foreach (var previous in _sets.Values.Where(s => !_builtIn.ContainsKey(s.Name) && !sets.ContainsKey(s.Name) && File.Exists(s.Source)))
                sets[previous.Name] = previous;

            foreach (var problem in problems)
                LogInvalidFile(_logger, problem);
            _sets = sets;
            LogLoaded(_logger, sets.Count - _builtIn.Count, _folder!);
        }
    }

    public void Dispose()
    {
        _watch?.Dispose();
        _files?.Dispose();
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "{Problem}")]
    private static partial void LogInvalidFile(ILogger logger, string problem);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Read {Count} label set(s) from {Folder}")]
    private static partial void LogLoaded(ILogger logger, int count, string folder);
}
