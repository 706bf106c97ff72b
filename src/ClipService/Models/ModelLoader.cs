using System.Diagnostics;
using ClipService.Core.Models;
using ClipService.Inference;
using Microsoft.Extensions.Options;

namespace ClipService.Models;

/// <summary>
/// Loads every model folder after the server has started (so /health/live answers at once), warms each one
/// up, then flips readiness. A model that fails to load stops the process with exit code 1.
/// </summary>
public sealed partial class ModelLoader(
    ModelRegistry registry,
    IOptions<ClipOptions> options,
    IClipInference inference,
    IHostApplicationLifetime lifetime,
    ILogger<ModelLoader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (and answer /health/live) before the slow part.
        await Task.Yield();
        var settings = options.Value;
        try
        {
            foreach (var folder in registry.Catalog.Folders)
            {
                stoppingToken.ThrowIfCancellationRequested();
                var started = Stopwatch.GetTimestamp();
                var model = ClipModel.Load(folder, new ClipModelLoadOptions
                {
                    Precision = settings.Precision,
                    ExecutionProvider = settings.ExecutionProvider,
                    ImageDecoding = settings.ImageDecoding,
                    LogitScale = settings.LogitScale,
                }, logger);
                registry.Add(model);
                await inference.WarmUpAsync(model, stoppingToken);
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                LogModelLoaded(logger, model.Name, model.Provider, model.EmbeddingSize, model.Image.Height, model.ContextLength, elapsedMs);
            }

            registry.MarkReady();
            LogReady(logger, registry.Catalog.Folders.Count, registry.DefaultModel);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogLoadFailed(logger, e, e.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "Loaded model {Model} on {Provider}: {EmbeddingSize}-d embeddings, {ImageSize}px images, {ContextLength} tokens ({ElapsedMs:F0} ms with warm-up)")]
    private static partial void LogModelLoaded(ILogger logger, string model, string provider, int embeddingSize, int imageSize, int contextLength, double elapsedMs);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Ready: {Count} model(s), default {DefaultModel}")]
    private static partial void LogReady(ILogger logger, int count, string defaultModel);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Critical, Message = "Loading models failed, stopping: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string reason);
}
