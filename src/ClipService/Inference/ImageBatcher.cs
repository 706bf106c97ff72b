using System.Buffers;
using System.Threading.Channels;
using System.Diagnostics;
using ClipService.Core.Models;
using ClipService.Diagnostics;
using ClipService.Errors;

namespace ClipService.Inference;

/// <summary>
/// Dynamic batching for one model's image encoder: requests enqueue preprocessed images (in pooled buffers); one
/// worker takes what is queued, up to the batch size (waiting up to the batch delay for more when configured),
/// runs one encoder call through the <see cref="InferenceGate"/>, and completes each request. Requests whose
/// client has gone or whose deadline has passed are dropped before they are computed.
/// </summary>
public sealed partial class ImageBatcher : IAsyncDisposable
{
    private readonly ClipModel _model;
    private readonly InferenceGate _gate;
    private readonly BatchingOptions _options;
    private readonly ILogger _logger;
    private readonly ClipMetrics _metrics;
    private readonly Channel<Job> _queue;
    private readonly Task _worker;
    private readonly CancellationTokenSource _stopping = new();
    private long _batches;
    private long _images;
    private long _dropped;

    private sealed record Job(float[] Pixels, DateTime Deadline, TaskCompletionSource<float[]> Result, ActivityContext Request, DateTimeOffset Queued,
        CancellationToken Cancellation);

    public ImageBatcher(ClipModel model, InferenceGate gate, BatchingOptions options, ILogger logger, ClipMetrics metrics)
    {
        _metrics = metrics;
        _model = model;
        _gate = gate;
        _options = options;
        _logger = logger;
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(options.MaxQueuedImages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // One loop per model. Each encoder call holds a pool thread for its duration (ONNX Runtime's own
        // intra-op threads do the work); the gate keeps that to MaxConcurrentRuns at a time.
        _worker = Task.Run(RunAsync);
    }

    public long Batches => Interlocked.Read(ref _batches);
    public long ImagesEncoded => Interlocked.Read(ref _images);
    public long Dropped => Interlocked.Read(ref _dropped);
    public int Queued => _queue.Reader.Count;
    public bool IsWorkerRunning => !_worker.IsCompleted;
    public Exception? WorkerFailure => _worker.Exception?.GetBaseException();

    /// <summary>Rents a buffer for one preprocessed image; hand it to <see cref="EncodeAsync"/>, which returns it.</summary>
    public float[] RentPixels() => ArrayPool<float>.Shared.Rent(_model.Preprocessor.TensorLength);

    /// <summary>Queues one preprocessed image; the buffer goes back to the pool once it has been used.</summary>
    public async Task<float[]> EncodeAsync(float[] pixels, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var job = new Job(pixels, DateTime.UtcNow + timeout,
            new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously),
            ClipTracing.CurrentRequest, DateTimeOffset.UtcNow, cancellationToken);
        if (!_queue.Writer.TryWrite(job))
        {
            ArrayPool<float>.Shared.Return(pixels);
            throw new ServiceUnavailableException("The image queue is full; retry shortly.", TimeSpan.FromSeconds(1));
        }

        try
        {
            return await job.Result.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new ServiceUnavailableException($"The image was not encoded within {timeout.TotalSeconds:F0} s; retry shortly.", TimeSpan.FromSeconds(2), RejectionReasons.Deadline);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Job>(_options.MaxBatchSize);
        var length = _model.Preprocessor.TensorLength;
        var pixels = new float[_options.MaxBatchSize * length];
        var embeddings = new float[_options.MaxBatchSize * _model.EmbeddingSize];
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                // Wait for the encoder first, then take what has queued meanwhile: the batch is as large as the
                // wait allowed it to grow.
                using var lease = await _gate.AcquireAsync(_stopping.Token, bypassQueueLimit: true);
                await CollectAsync(reader, batch);
                if (batch.Count == 0)
                    continue;
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Pixels.AsSpan(0, length).CopyTo(pixels.AsSpan(i * length, length));
                    ArrayPool<float>.Shared.Return(batch[i].Pixels);
                }

                try
                {
                    using (_metrics.ImageBatch(_model.Name, batch.Select(j => (j.Request, j.Queued)), batch.Count))
                        _model.Image.Encode(pixels, batch.Count, embeddings);
                    Interlocked.Increment(ref _batches);
                    Interlocked.Add(ref _images, batch.Count);
                    for (var i = 0; i < batch.Count; i++)
                        batch[i].Result.TrySetResult(embeddings.AsSpan(i * _model.EmbeddingSize, _model.EmbeddingSize).ToArray());
                }
                catch (Exception e)
                {
                    LogBatchFailed(_logger, e, _model.Name, batch.Count);
                    foreach (var job in batch)
                        job.Result.TrySetException(e);
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }

        foreach (var job in batch)
            job.Result.TrySetCanceled();
        while (reader.TryRead(out var left))
            left.Result.TrySetCanceled();
    }

    // Takes what is queued, up to the batch size; with a batch delay, waits up to it for a batch to fill.
    private async Task CollectAsync(ChannelReader<Job> reader, List<Job> batch)
    {
        var waitUntil = DateTime.UtcNow.AddMilliseconds(_options.MaxBatchDelayMs);
        while (batch.Count < _options.MaxBatchSize)
        {
            if (reader.TryRead(out var job))
            {
                if (job.Cancellation.IsCancellationRequested || DateTime.UtcNow > job.Deadline)
                {
                    Interlocked.Increment(ref _dropped);
                    ArrayPool<float>.Shared.Return(job.Pixels);
                    job.Result.TrySetCanceled(job.Cancellation.IsCancellationRequested ? job.Cancellation : CancellationToken.None);
                    continue;
                }

                batch.Add(job);
                continue;
            }

            var remaining = waitUntil - DateTime.UtcNow;
            if (batch.Count == 0 || remaining <= TimeSpan.Zero)
                return;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(remaining);
            try
            {
                if (!await reader.WaitToReadAsync(timeout.Token))
                    return;
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Image batch of {Count} failed on model {Model}")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, string model, int count);
}
