using System.Diagnostics.Metrics;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.Options;

namespace ClipService.Diagnostics;

/// <summary>
/// Instruments read at scrape time from counters the service keeps anyway: images encoded and images queued per
/// model (each model's batcher), text-cache hits and misses, and one <c>clip_model_info</c> series per loaded model.
/// A hosted service only so that the host creates it (and its instruments) at start.
/// </summary>
public sealed class ClipObservedMetrics : IHostedService
{
    public ClipObservedMetrics(ClipMetrics metrics, ImageBatchers batchers, TextEmbeddingCache cache, ModelRegistry registry, IOptions<ModelOptions> options)
    {
        var meter = metrics.Meter;
        meter.CreateObservableCounter("clip.images.encoded",
            () => batchers.Started.Select(b => Measure(b.Batcher.ImagesEncoded, "model", b.Model)), "{image}", "Images run through an image encoder.");
        meter.CreateObservableGauge("clip.image.queue_length",
            () => batchers.Started.Select(b => Measure(b.Batcher.Queued, "model", b.Model)), "{image}", "Images waiting for the image encoder.");
        meter.CreateObservableCounter("clip.text_cache.lookups",
            () => (Measurement<long>[])[Measure(cache.Hits, "result", "hit"), Measure(cache.Misses, "result", "miss")], "{lookup}", "Text-embedding cache lookups.");
        var precision = options.Value.Precision.ToString();
        meter.CreateObservableGauge("clip.model.info",
            () => registry.Models.Select(m => new Measurement<int>(1, new KeyValuePair<string, object?>("model", m.Name),
                new KeyValuePair<string, object?>("provider", m.Provider), new KeyValuePair<string, object?>("precision", precision))),
            unit: null, "Loaded models (always 1), labelled with their execution provider and precision.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static Measurement<long> Measure(long value, string key, string label) => new(value, new KeyValuePair<string, object?>(key, label));
}
