using System.Diagnostics;
using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Inference;
using Microsoft.Extensions.Options;

namespace ClipService.Models;

/// <summary>
/// Loads every model folder while the host starts, before the server listens, so a corrupt graph or tokenizer
/// stops the process before anything answers; then, with the server up (so /health/live answers), warms each
/// model up and flips readiness. A failure either way stops the process with exit code 1.
/// </summary>
public sealed partial class ModelLoader(
    ModelRegistry registry,
    IOptions<ModelOptions> options,
    IClipInference inference,
    IHostApplicationLifetime lifetime,
    ILogger<ModelLoader> logger) : BackgroundService, IHostedLifecycleService
{
    private readonly List<(ClipModel Model, double LoadMs)> _loaded = [];

    /// <summary>Runs before any hosted service starts, the web server included; an exception here fails the start.</summary>
    /// <exception cref="ModelFolderException">A model folder could not be loaded; the message names it and why.</exception>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Synchronous on purpose: nothing else runs yet, and the server must not listen before this has finished.
        var settings = options.Value;
        foreach (var folder in registry.Catalog.Folders)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = Stopwatch.GetTimestamp();
            ClipModel model;
            try
            {
                model = ClipModel.Load(folder, new ClipModelLoadOptions
                {
                    Precision = settings.Precision,
                    ExecutionProvider = settings.ExecutionProvider,
                    ImageDecoding = settings.ImageDecoding,
                    LogitScale = settings.LogitScale,
                }, logger);
            }
            catch (Exception e) when (e is not (ModelFolderException or ExecutionProviderException or OperationCanceledException))
            {
                // ONNX Runtime, JSON and tokenizer errors do not say which folder they came from.
                throw new ModelFolderException($"Model folder '{folder}' could not be loaded: {e.Message}", e);
            }

            registry.Add(model);
            _loaded.Add((model, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        }

        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (and answer /health/live) before the slow part.
        await Task.Yield();
        // Stopping begins with the application's token, before this service's turn to stop comes (a failed start
        // stops the host at once): the warm-up ends at its next run then, and the models are never marked ready.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            foreach (var (model, loadMs) in _loaded)
            {
                stopping.Token.ThrowIfCancellationRequested();
                var started = Stopwatch.GetTimestamp();
                await inference.WarmUpAsync(model, stopping.Token);
                var warmUpMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                LogModelLoaded(logger, model.Name, model.Provider, model.EmbeddingSize, model.Image.Height, model.ContextLength, loadMs, warmUpMs);
            }

            stopping.Token.ThrowIfCancellationRequested();
            registry.MarkReady();
            LogReady(logger, registry.Catalog.Folders.Count, registry.DefaultModel, options.Value.ImageDecoding.JpegLibrary);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // One line, as for the failures found before the server started; the trace only at Debug.
            LogWarmUpFailed(logger, e.Message);
            LogWarmUpFailure(logger, e);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "Loaded model {Model} on {Provider}: {EmbeddingSize}-d embeddings, {ImageSize}px images, {ContextLength} tokens ({LoadMs:F0} ms to load, {WarmUpMs:F0} ms to warm up)")]
    private static partial void LogModelLoaded(ILogger logger, string model, string provider, int embeddingSize, int imageSize, int contextLength, double loadMs, double warmUpMs);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Ready: {Count} model(s), default {DefaultModel}; JPEG pixels from {JpegLibrary}")]
    private static partial void LogReady(ILogger logger, int count, string defaultModel, string jpegLibrary);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Critical, Message = "Warming up the models failed, stopping: {Reason}")]
    private static partial void LogWarmUpFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Warm-up failure detail")]
    private static partial void LogWarmUpFailure(ILogger logger, Exception exception);
}
