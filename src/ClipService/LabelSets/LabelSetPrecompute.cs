using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.Options;

namespace ClipService.LabelSets;

/// <summary>
/// Once the models are ready, embeds every label set for the default model in the background, so the first request
/// naming a set does not pay for it. Background means the encoder's idle time only: small runs that wait until no
/// request is running or waiting (on a CPU, ImageNet's 1,000 labels × 80 templates on ViT-B/32 is most of an
/// hour of encoder time, which must not be taken from traffic). A request that arrives first shares the
/// computation in flight. Other models embed a set on its first use.
/// </summary>
public sealed partial class LabelSetPrecompute(
    ModelRegistry registry,
    LabelSetCatalog catalog,
    LabelSetEmbeddings embeddings,
    IOptions<LabelSetOptions> options,
    ILogger<LabelSetPrecompute> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.PrecomputeLabelSets)
            return;
        try
        {
            await PrecomputeAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (or start-up failed) before the sets were embedded: they are embedded on first use, if ever.
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

    private async Task PrecomputeAsync(CancellationToken stoppingToken)
    {
        while (!registry.IsReady)
            await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken);

        var model = registry.Get(null);
        foreach (var set in catalog.All.OrderBy(s => s.Labels.Count))
        {
            try
            {
                await embeddings.GetAsync(model, set, stoppingToken, EncoderPriority.Background);
            }
            catch (OperationCanceledException)
            {
                // The service is stopping (the computation stops with the application, before this service's token).
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Overload or a transient failure: the set will be embedded on its first use instead.
                LogPrecomputeFailed(logger, e, set.Name, model.Name);
            }
        }
    }

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Precomputing label set {LabelSet} for {Model} failed; it will be embedded on first use")]
    private static partial void LogPrecomputeFailed(ILogger logger, Exception exception, string labelSet, string model);
}
