using System.Collections.Concurrent;
using System.Diagnostics;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Errors;
using ClipService.Inference;
using Microsoft.Extensions.Options;

namespace ClipService.LabelSets;

/// <summary>
/// Each label set's label embeddings (its templates ensembled), computed once per model and set version and kept
/// for the life of the process: classifying with a set is then one image encode and a labels-way dot product.
/// Single-flight: concurrent first uses share one computation, which a caller going away does not cancel; a failed
/// computation is forgotten so the next use tries again. Shutting down stops a computation between encoder runs. A
/// request waits for a computation in flight at most the request timeout, then gets 503 with Retry-After while the
/// computation goes on (a big set on a big model takes minutes on a CPU). With a <see cref="LabelSetStore"/>, a
/// computation first looks there, and what it computes is saved there.
/// </summary>
public sealed partial class LabelSetEmbeddings(
    IClipInference inference,
    LabelSetStore store,
    IOptions<InferenceOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<LabelSetEmbeddings> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<TextEmbeddings>>> _computed = new(StringComparer.Ordinal);

    /// <summary>The templates a set is embedded with when the request gives none: its own, else the model family's default.</summary>
    public static IReadOnlyList<string> TemplatesOf(LabelSet set, ClipModel model) => set.Templates ?? [model.DefaultTemplate];

    public bool IsComputed(ClipModel model, LabelSet set) =>
        _computed.TryGetValue(Key(model, set), out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully;

    /// <param name="priority">For a computation this call starts: <see cref="EncoderPriority.Background"/> (the
    /// precompute after start) runs only while the encoder is idle.</param>
    /// <param name="progress">For a computation this call starts: told the prompts of each encoder run done.</param>
    public async Task<TextEmbeddings> GetAsync(ClipModel model, LabelSet set, CancellationToken cancellationToken, EncoderPriority priority = EncoderPriority.Request,
        IProgress<int>? progress = null)
    {
        var key = Key(model, set);
        var lazy = _computed.GetOrAdd(key, _ => new Lazy<Task<TextEmbeddings>>(() => ComputeAsync(model, set, priority, progress)));
        try
        {
            // The precompute waits for its set however long it takes: giving up would start the next set beside it.
            return priority == EncoderPriority.Background
                ? await lazy.Value.WaitAsync(cancellationToken)
                : await lazy.Value.WaitAsync(TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds), cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new ServiceUnavailableException(
                $"The label set '{set.Name}' is still being embedded for {model.Name} ({set.Labels.Count} labels × {TemplatesOf(set, model).Count} templates); retry shortly.",
                TimeSpan.FromSeconds(10), RejectionReasons.Deadline);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _computed.TryRemove(KeyValuePair.Create(key, lazy));
            throw;
        }
    }

    /// <summary>True when the set's embeddings are in memory, or now are because the store had them; computes nothing.</summary>
    public async Task<bool> LoadStoredAsync(ClipModel model, LabelSet set, CancellationToken cancellationToken)
    {
        if (IsComputed(model, set))
            return true;
        if (await store.TryLoadAsync(model, set.Name, set.Labels, TemplatesOf(set, model), cancellationToken) is not { } stored)
            return false;
        _computed.TryAdd(Key(model, set), new Lazy<Task<TextEmbeddings>>(Task.FromResult(stored)));
        LogLoaded(logger, set.Name, model.Name);
        return true;
    }

    /// <summary>Completes once the computations running now have ended, however they end (or when
    /// <paramref name="cancellationToken"/> fires).</summary>
    public async Task WhenComputationsEndAsync(CancellationToken cancellationToken)
    {
        var running = _computed.Values.Where(l => l.IsValueCreated && !l.Value.IsCompleted).Select(l => l.Value).ToArray();
        await ((Task)Task.WhenAll(running)).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task<TextEmbeddings> ComputeAsync(ClipModel model, LabelSet set, EncoderPriority priority, IProgress<int>? progress)
    {
        // Embeddings of earlier versions of this set are no longer reachable.
        var prefix = $"{model.Name}\u001F{set.Name}\u001F";
        foreach (var stale in _computed.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k != Key(model, set)))
            _computed.TryRemove(stale, out _);

        var templates = TemplatesOf(set, model);
        var stopping = lifetime.ApplicationStopping;
        if (await store.TryLoadAsync(model, set.Name, set.Labels, templates, stopping) is { } stored)
        {
            LogLoaded(logger, set.Name, model.Name);
            progress?.Report(set.Labels.Count * templates.Count);
            return stored;
        }

        var started = Stopwatch.GetTimestamp();
        var embeddings = await inference.ComputeLabelsAsync(model, set.Labels, templates, priority, progress, stopping);
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogComputed(logger, set.Name, model.Name, set.Labels.Count, templates.Count, elapsedMs);
        await store.SaveAsync(model, set.Name, set.Labels, templates, embeddings, stopping);
        return embeddings;
    }

    private static string Key(ClipModel model, LabelSet set) => $"{model.Name}\u001F{set.Name}\u001F{set.Version}";

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information,
        Message = "Label set {LabelSet} embedded for {Model}: {Labels} labels × {Templates} templates in {ElapsedMs:F0} ms")]
    private static partial void LogComputed(ILogger logger, string labelSet, string model, int labels, int templates, double elapsedMs);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "Label set {LabelSet} for {Model} loaded from the store")]
    private static partial void LogLoaded(ILogger logger, string labelSet, string model);
}
