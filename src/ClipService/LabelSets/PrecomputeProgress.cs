using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ClipService.Diagnostics;

namespace ClipService.LabelSets;

/// <summary>
/// The label-set precompute's progress per model, as the gauge <c>clip_label_set_precompute_prompts</c> with labels
/// <c>model</c> and <c>state</c> (<c>done</c>, <c>total</c>): prompts embedded (or loaded from the store) of those the
/// precompute set out to embed. A model appears once its precompute has been decided on.
/// </summary>
public sealed class PrecomputeProgress
{
    private readonly ConcurrentDictionary<string, Counts> _models = new(StringComparer.Ordinal);

    public PrecomputeProgress(ClipMetrics metrics) =>
        metrics.Meter.CreateObservableGauge("clip.label_set_precompute.prompts", Observe, "{prompt}",
            "Label-set precompute progress per model: prompts done and in total.");

    /// <summary>Starts (or restarts) a model's count at 0 of <paramref name="total"/>.</summary>
    public IProgress<int> Begin(string model, long total)
    {
        var counts = new Counts(total);
        _models[model] = counts;
        return counts;
    }

    public (long Done, long Total)? For(string model) => _models.TryGetValue(model, out var c) ? (c.Done, c.Total) : null;

    private IEnumerable<Measurement<long>> Observe()
    {
        foreach (var (model, counts) in _models)
        {
            yield return new Measurement<long>(counts.Done, new("model", model), new("state", "done"));
            yield return new Measurement<long>(counts.Total, new("model", model), new("state", "total"));
        }
    }

    private sealed class Counts(long total) : IProgress<int>
    {
        private long _done;

        public long Total => total;

        public long Done => Interlocked.Read(ref _done);

        public void Report(int value) => Interlocked.Add(ref _done, value);
    }
}
