using System.Collections.Concurrent;
using ClipService.Core.Models;
using ClipService.Diagnostics;
using Microsoft.Extensions.Options;

namespace ClipService.Inference;

/// <summary>One <see cref="ImageBatcher"/> per loaded model, created on first use, stopped with the host.</summary>
public sealed class ImageBatchers(InferenceGate gate, IOptions<BatchingOptions> options, ILoggerFactory loggers, ClipMetrics metrics) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ImageBatcher>> _batchers = new(StringComparer.Ordinal);

    public ImageBatcher For(ClipModel model) =>
        _batchers.GetOrAdd(model.Name, _ => new Lazy<ImageBatcher>(() =>
            new ImageBatcher(model, gate, options.Value, loggers.CreateLogger<ImageBatcher>(), metrics))).Value;

    /// <summary>The batchers created so far, by model name.</summary>
    public IEnumerable<(string Model, ImageBatcher Batcher)> Started =>
        _batchers.Where(b => b.Value.IsValueCreated).Select(b => (b.Key, b.Value.Value));

    public async ValueTask DisposeAsync()
    {
        foreach (var batcher in _batchers.Values.Where(b => b.IsValueCreated))
            await batcher.Value.DisposeAsync();
        _batchers.Clear();
    }
}
