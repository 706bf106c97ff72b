using ClipService.Core.Models;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.Options;

namespace ClipService.LabelSets;

/// <summary>
/// After start: hashes every model's text side for the store (while the models warm up), and once the models are
/// ready loads the default model's label sets that the store has, then decides, in one logged line, whether to
/// embed the rest in the background. <see cref="PrecomputeMode.Auto"/> measures what a prompt costs the background
/// encoder and embeds them only when the estimate for the sets not yet stored is at most
/// Clip:LabelSets:AutoPrecomputeMaxCpuSeconds. Background means one thread (the model's single-threaded background
/// encoder) and the encoder's idle time only: runs of 8 prompts that start only while no request is running or
/// waiting. A request that arrives first shares the computation in flight. Other models embed a set on its first use.
/// Progress is the gauge <c>clip_label_set_precompute_prompts</c>. Stopping (or a failed start) ends it with at most
/// one Information line.
/// </summary>
public sealed partial class LabelSetPrecompute(
    ModelRegistry registry,
    LabelSetCatalog catalog,
    LabelSetEmbeddings embeddings,
    LabelSetStore store,
    ITextEncoderCost cost,
    PrecomputeProgress progress,
    BackgroundTextEncoders encoders,
    IHostApplicationLifetime lifetime,
    IOptions<LabelSetOptions> options,
    ILogger<LabelSetPrecompute> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (store.Enabled)
        {
            foreach (var loaded in registry.Loaded)
                _ = store.DigestAsync(loaded);
        }

        var mode = options.Value.PrecomputeLabelSets;
        if (mode == PrecomputeMode.False && !store.Enabled)
        {
            LogOff(logger, "Clip:PrecomputeLabelSets=false");
            return;
        }

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        ClipModel? model = null;
        try
        {
            while (!registry.IsReady)
                await Task.Delay(TimeSpan.FromMilliseconds(100), stopping.Token);
            model = registry.Get(null);
            await PrecomputeAsync(model, mode, stopping.Token);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopping, or the start failed: what is done is kept; the rest is embedded on first use, if ever.
            if (model is not null && progress.For(model.Name) is { } counts && counts.Done < counts.Total)
                LogStopped(logger, model.Name, counts.Done, counts.Total);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            // The background encoder could not be opened, or the store failed in a way it does not handle itself:
            // the service goes on, and the sets are embedded on first use.
            LogPrecomputeFailed(logger, "(all)", model?.Name ?? registry.DefaultModel, e.Message);
        }
        finally
        {
            if (model is not null)
                encoders.Release(model);
        }
    }

    /// <summary>
    /// Stops the precompute, then waits for every label-set computation still running (a caller that stops waiting
    /// leaves its computation going; computations stop with the application between encoder runs), so none runs on
    /// a model after the host disposes it.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await embeddings.WhenComputationsEndAsync(cancellationToken);
    }

    private async Task PrecomputeAsync(ClipModel model, PrecomputeMode mode, CancellationToken stoppingToken)
    {
        var sets = catalog.All.OrderBy(s => s.Labels.Count).ToList();
        if (sets.Where(s => !model.Reads(s.Language)).ToList() is { Count: > 0 } foreign)
        {
            // imagenet-zh's 80,000 prompts are wasted on an English CLIP; a request for the set is still served.
            var names = string.Join(", ", foreign.Select(s => $"{s.Name} ({s.Language})"));
            var languages = string.Join(", ", model.Languages!.Order());
            LogForeignSkipped(logger, model.Name, names, languages);
            sets = [.. sets.Except(foreign)];
        }

        var pending = new List<LabelSet>();
        foreach (var set in sets)
        {
            if (!await embeddings.LoadStoredAsync(model, set, stoppingToken))
                pending.Add(set);
        }

        var prompts = pending.Sum(s => (long)s.Labels.Count * LabelSetEmbeddings.TemplatesOf(s, model).Count);
        var stored = sets.Count - pending.Count;
        if (pending.Count == 0)
        {
            LogNothingToDo(logger, model.Name, sets.Count);
            return;
        }

        switch (mode)
        {
            case PrecomputeMode.False:
                LogOffWithPending(logger, model.Name, stored, pending.Count, prompts, "Clip:PrecomputeLabelSets=false");
                return;
            case PrecomputeMode.True:
                LogOn(logger, model.Name, pending.Count, prompts, stored, "Clip:PrecomputeLabelSets=true");
                break;
            default:
                var perPrompt = await cost.SecondsPerPromptAsync(model, stoppingToken);
                var estimate = perPrompt * prompts;
                var limit = options.Value.LabelSets.AutoPrecomputeMaxCpuSeconds;
                if (estimate > limit)
                {
                    encoders.Release(model);
                    LogAutoOff(logger, model.Name, pending.Count, prompts, stored, perPrompt * 1000, estimate, limit);
                    return;
                }

                LogAutoOn(logger, model.Name, pending.Count, prompts, stored, perPrompt * 1000, estimate, limit);
                break;
        }

        var counter = progress.Begin(model.Name, prompts);
        foreach (var set in pending)
        {
            try
            {
                await embeddings.GetAsync(model, set, stoppingToken, EncoderPriority.Background, counter);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is not (OperationCanceledException or ObjectDisposedException))
            {
                // Overload or a transient failure: the set will be embedded on its first use instead.
                LogPrecomputeFailed(logger, set.Name, model.Name, e.Message);
            }
        }
    }

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Precomputing label set {LabelSet} for {Model} failed ({Reason}); it will be embedded on first use")]
    private static partial void LogPrecomputeFailed(ILogger logger, string labelSet, string model, string reason);

    [LoggerMessage(EventId = 4120, Level = LogLevel.Information, Message = "Label-set precompute off ({Reason}): sets are embedded on first use")]
    private static partial void LogOff(ILogger logger, string reason);

    [LoggerMessage(EventId = 4121, Level = LogLevel.Information, Message = "Label-set precompute off for {Model} ({Reason}): {Stored} set(s) loaded from the store, {Pending} set(s) ({Prompts} prompts) embedded on first use")]
    private static partial void LogOffWithPending(ILogger logger, string model, int stored, int pending, long prompts, string reason);

    [LoggerMessage(EventId = 4122, Level = LogLevel.Information, Message = "Label-set precompute for {Model}: {Pending} set(s), {Prompts} prompts, on one thread in the encoder's idle time ({Stored} set(s) loaded from the store; {Reason})")]
    private static partial void LogOn(ILogger logger, string model, int pending, long prompts, int stored, string reason);

    [LoggerMessage(EventId = 4123, Level = LogLevel.Information, Message = "Label-set precompute for {Model}: {Pending} set(s), {Prompts} prompts at {MsPerPrompt:F2} ms each ≈ {EstimateSeconds:F0} CPU-s ≤ {LimitSeconds:F0} s, on one thread in the encoder's idle time ({Stored} set(s) loaded from the store; Clip:PrecomputeLabelSets=auto)")]
    private static partial void LogAutoOn(ILogger logger, string model, int pending, long prompts, int stored, double msPerPrompt, double estimateSeconds, double limitSeconds);

    [LoggerMessage(EventId = 4124, Level = LogLevel.Information, Message = "Label-set precompute off for {Model}: {Pending} set(s), {Prompts} prompts at {MsPerPrompt:F2} ms each ≈ {EstimateSeconds:F0} CPU-s > {LimitSeconds:F0} s (Clip:PrecomputeLabelSets=auto; {Stored} set(s) loaded from the store). Sets are embedded on first use; fill Clip:LabelSets:CachePath ahead with `ClipService precompute-label-sets`, or set Clip:PrecomputeLabelSets=true")]
    private static partial void LogAutoOff(ILogger logger, string model, int pending, long prompts, int stored, double msPerPrompt, double estimateSeconds, double limitSeconds);

    [LoggerMessage(EventId = 4125, Level = LogLevel.Information, Message = "Label sets for {Model}: all {Count} in memory or loaded from the store; nothing to precompute")]
    private static partial void LogNothingToDo(ILogger logger, string model, int count);

    [LoggerMessage(EventId = 4127, Level = LogLevel.Information, Message = "Label sets not precomputed for {Model}, which reads {Languages}: {Sets}; they are embedded on first use")]
    private static partial void LogForeignSkipped(ILogger logger, string model, string sets, string languages);

    [LoggerMessage(EventId = 4126, Level = LogLevel.Information, Message = "Label-set precompute for {Model} stopped at {Done} of {Total} prompts")]
    private static partial void LogStopped(ILogger logger, string model, long done, long total);
}
