using ClipService.Core.Models;
using ClipService.Errors;

namespace ClipService.Models;

/// <summary>The loaded models, by name. Filled once at start-up by <see cref="ModelLoader"/>; read concurrently.</summary>
public sealed class ModelRegistry(ModelCatalog catalog) : IDisposable
{
    private readonly Dictionary<string, ClipModel> _models = new(StringComparer.Ordinal);
    private const int MaxEchoedNameLength = 128;
    private volatile bool _ready;

    public ModelCatalog Catalog { get; } = catalog;
    public string DefaultModel => Catalog.DefaultModel;

    /// <summary>True once every model is loaded and warmed up.</summary>
    public bool IsReady => _ready;

    public IReadOnlyCollection<ClipModel> Models => _ready ? _models.Values : [];

    /// <summary>The named model, or the default when <paramref name="name"/> is null or empty.</summary>
    /// <exception cref="ModelNotFoundException">No model of that name.</exception>
    /// <exception cref="ServiceUnavailableException">Models are still loading.</exception>
    public ClipModel Get(string? name)
    {
        if (!_ready)
            throw new ServiceUnavailableException("Models are still loading; retry shortly.", TimeSpan.FromSeconds(2), RejectionReasons.Loading);
        name = string.IsNullOrWhiteSpace(name) ? DefaultModel : name;
        return _models.TryGetValue(name, out var model) ? model : throw new ModelNotFoundException(Echo(name), _models.Keys);
    }

    // A name is echoed in the 404 only as far as a real one could go: a megabyte-long one is not sent back whole.
    private static string Echo(string name) => Errors.Echo.Of(name, MaxEchoedNameLength);

    /// <summary>The models loaded so far, ready or not (all of them once the host has started): for work that
    /// prepares them, such as hashing their files, never for requests.</summary>
    internal IReadOnlyCollection<ClipModel> Loaded => _models.Values;

    internal void Add(ClipModel model) => _models[model.Name] = model;

    internal void MarkReady() => _ready = true;

    public void Dispose()
    {
        _ready = false;
        foreach (var model in _models.Values)
            model.Dispose();
        _models.Clear();
    }
}
