using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ClipService.Diagnostics;

/// <summary>
/// The service's own instruments, on one <see cref="Meter"/> named <see cref="MeterName"/> (from the host's
/// <see cref="IMeterFactory"/>, so every host has its own). Exposition names are a contract (README, Metrics):
/// an instrument named <c>clip.encoder.duration</c> with unit <c>s</c> is scraped as <c>clip_encoder_duration_seconds</c>.
/// Counters that already exist elsewhere (images encoded, queue length, cache lookups, loaded models) are observed by
/// <see cref="ClipObservedMetrics"/> instead of being counted twice.
/// </summary>
public sealed class ClipMetrics
{
    public const string MeterName = "ClipService";

    private static readonly IReadOnlyList<int> BatchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
    private static readonly IReadOnlyList<double> DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _textsEncoded;
    private readonly Histogram<int> _imageBatchSize;
    private readonly Histogram<double> _encoderDuration;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _apiKeyReloadFailures;

    public ClipMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _textsEncoded = Meter.CreateCounter<long>("clip.texts.encoded", "{text}", "Texts run through a text encoder (cache misses).");
        _imageBatchSize = Meter.CreateHistogram("clip.image.batch_size", unit: null, "Images per image-encoder call.",
            tags: null, new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchSizeBuckets });
        _encoderDuration = Meter.CreateHistogram("clip.encoder.duration", "s", "Duration of one encoder call.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _rejected = Meter.CreateCounter<long>("clip.requests.rejected", "{request}", "Requests turned away, by reason.");
        _apiKeyReloadFailures = Meter.CreateCounter<long>("clip.api_keys.reload_failures", "{reload}",
            "Changes of the API key file that were refused (unreadable, or no valid key), so the previous keys stayed in force.");
    }

    public Meter Meter { get; }

    /// <summary>Times one image-encoder call over a batch and gives each request in it its queue-wait and encode spans.</summary>
    public EncoderCall ImageBatch(string model, IEnumerable<(ActivityContext Request, DateTimeOffset Queued)> jobs, int count)
    {
        _imageBatchSize.Record(count, new KeyValuePair<string, object?>("model", model));
        return new EncoderCall(this, model, "image", ClipTracing.StartImageEncode(jobs, count));
    }

    /// <summary>Times one text-encoder call over <paramref name="count"/> texts, with its span.</summary>
    public EncoderCall TextBatch(string model, int count)
    {
        _textsEncoded.Add(count, new KeyValuePair<string, object?>("model", model));
        return new EncoderCall(this, model, "text", ClipTracing.StartTextEncode(count));
    }

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ApiKeyReloadFailed(string reason) => _apiKeyReloadFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Records the encoder duration and ends the spans when disposed.</summary>
    public sealed class EncoderCall(ClipMetrics metrics, string model, string encoder, IReadOnlyList<Activity> spans) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public void Dispose()
        {
            metrics._encoderDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds,
                new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("encoder", encoder));
            foreach (var span in spans)
                span.Dispose();
        }
    }
}
