using System.Diagnostics;
using System.Threading.Channels;
using ClipService.Core.Models;
using ClipService.Diagnostics;
using ClipService.Errors;

namespace ClipService.Inference;

/// <summary>
/// Dynamic batching for one model's image encoder, owning each image from its encoded bytes to its embedding.
/// A request first reserves a slot in the batch being filled (the reservation is the admission: beyond
/// <see cref="BatchingOptions.MaxQueuedImages"/> it gets 503 before any decoding), then decodes and preprocesses
/// straight into that slot of the batch's tensor, at most <c>MaxConcurrentDecodes</c> at a time, in parallel on
/// the requests' threads. One worker takes the batches in order: once the encoder is free it seals the oldest
/// (new reservations go to a new batch), waits for the slots already reserved in it to be written, drops those
/// whose request failed, left or ran out of time (moving the rest up so none is computed), runs one encoder call
/// through the <see cref="InferenceGate"/> and completes each request.
/// </summary>
public sealed partial class ImageBatcher : IAsyncDisposable
{
    private readonly ClipModel _model;
    private readonly InferenceGate _gate;
    private readonly BatchingOptions _options;
    private readonly ILogger _logger;
    private readonly ClipMetrics _metrics;
    private readonly int _tensorLength;
    private readonly int _batchSize;
    private readonly SemaphoreSlim _decodes;
    private readonly Channel<Batch> _pending = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _lock = new();
    private readonly Stack<float[]> _spareTensors = new();
    private const int MaxSpareTensors = 2;
    private readonly Task _worker;
    private readonly CancellationTokenSource _stopping = new();
    private Batch? _filling;
    private int _queued;
    private bool _stopped;
    private long _batchCount;
    private long _images;
    private long _dropped;

    public ImageBatcher(ClipModel model, InferenceGate gate, BatchingOptions options, ILogger logger, ClipMetrics metrics)
    {
        _metrics = metrics;
        _model = model;
        _gate = gate;
        _options = options;
        _logger = logger;
        _tensorLength = model.Preprocessor.TensorLength;
        _batchSize = options.BatchSizeFor(model.Image.Provider);
        var decodes = model.Preprocessor.Decoder.Options.ConcurrentDecodes;
        _decodes = new SemaphoreSlim(decodes, decodes);
        // One loop per model. Each encoder call holds a pool thread for its duration (ONNX Runtime's own
        // intra-op threads do the work); the gate keeps that to MaxConcurrentRuns at a time. The worker is created
        // inside the first request: without suppressing the flow it would keep that request's Activity as Current.
        using (ExecutionContext.SuppressFlow())
            _worker = Task.Run(RunAsync);
    }

    public long Batches => Interlocked.Read(ref _batchCount);
    public long ImagesEncoded => Interlocked.Read(ref _images);
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Images admitted and not yet taken into an encoder call.</summary>
    public int Queued => Volatile.Read(ref _queued);

    public bool IsWorkerRunning => !_worker.IsCompleted;
    public Exception? WorkerFailure => _worker.Exception?.GetBaseException();

    /// <summary>Decodes, preprocesses and encodes one image within <paramref name="timeout"/>.</summary>
    /// <exception cref="ServiceUnavailableException">The queue is full (at once, before decoding), or the deadline passed.</exception>
    /// <exception cref="Core.Imaging.InvalidImageException">The image cannot be decoded.</exception>
    public async Task<float[]> EncodeAsync(ReadOnlyMemory<byte> encodedImage, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var slot = Reserve(DateTime.UtcNow + timeout, ClipTracing.CurrentRequest);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _decodes.WaitAsync(deadline.Token);
            try
            {
                using (ClipTracing.StartDecode())
                    _model.Preprocessor.Preprocess(encodedImage.Span, slot.Tensor);
            }
            finally
            {
                _decodes.Release();
            }
        }
        catch (Exception e)
        {
            slot.Settle(written: false);
            throw e is OperationCanceledException && !cancellationToken.IsCancellationRequested ? TimedOut(timeout) : e;
        }

        slot.Settle(written: true);
        try
        {
            return await slot.Result.Task.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            slot.Abandon();
            if (!cancellationToken.IsCancellationRequested)
                throw TimedOut(timeout);
            throw;
        }
    }

    private static ServiceUnavailableException TimedOut(TimeSpan timeout) =>
        new($"The image was not encoded within {timeout.TotalSeconds:F0} s; retry shortly.", TimeSpan.FromSeconds(2), RejectionReasons.Deadline);

    private Slot Reserve(DateTime deadline, ActivityContext request)
    {
        lock (_lock)
        {
            if (_stopped)
                throw new ServiceUnavailableException("The service is stopping.", TimeSpan.FromSeconds(1), RejectionReasons.Stopping);
            if (_queued >= _options.MaxQueuedImages)
                throw new ServiceUnavailableException("The image queue is full; retry shortly.", TimeSpan.FromSeconds(1));
            if (_filling is null || _filling.Slots.Count == _batchSize)
            {
                _filling = new Batch(_spareTensors.TryPop(out var tensor) ? tensor : new float[_batchSize * _tensorLength]);
                _pending.Writer.TryWrite(_filling);
            }

            _queued++;
            var slot = new Slot(_filling, _filling.Slots.Count, deadline, _tensorLength, request);
            _filling.Slots.Add(slot);
            if (_filling.Slots.Count == _batchSize)
                _filling.Full.TrySetResult();
            return slot;
        }
    }

    private async Task RunAsync()
    {
        var embeddings = new float[_batchSize * _model.EmbeddingSize];
        var reader = _pending.Reader;
        Batch? batch = null;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                if (!reader.TryRead(out batch))
                    continue;
                // Wait for the encoder first, then seal: the batch is as large as the wait allowed it to grow.
                using var lease = await _gate.AcquireAsync(_stopping.Token, bypassQueueLimit: true);
                if (_options.MaxBatchDelayMs > 0)
                    await WaitForFullAsync(batch);
                Seal(batch);
                await batch.Settled.Task.WaitAsync(_stopping.Token);
                Encode(batch, embeddings);
                lock (_lock)
                {
                    // Batches seldom come in bursts of more: further tensors are left to the GC rather than kept.
                    if (_spareTensors.Count < MaxSpareTensors)
                        _spareTensors.Push(batch.Tensor);
                }

                batch = null;
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            // Stopped, or failed outside a batch's own error handling (the health check reports that): no request
            // is left waiting for a batch nobody reads.
            batch?.CancelAll();
            while (reader.TryRead(out var left))
                left.CancelAll();
        }
    }

    private async Task WaitForFullAsync(Batch batch)
    {
        try
        {
            await batch.Full.Task.WaitAsync(TimeSpan.FromMilliseconds(_options.MaxBatchDelayMs), _stopping.Token);
        }
        catch (TimeoutException)
        {
        }
    }

    private void Seal(Batch batch)
    {
        lock (_lock)
        {
            if (_filling == batch)
                _filling = null;
            _queued -= batch.Slots.Count;
            batch.Seal();
        }
    }

    // Moves the slots worth computing to the front of the tensor (a request that failed, left or timed out
    // leaves a hole), runs the encoder on them and completes their requests.
    private void Encode(Batch batch, float[] embeddings)
    {
        var live = new List<Slot>(batch.Slots.Count);
        var now = DateTime.UtcNow;
        foreach (var slot in batch.Slots)
        {
            if (!slot.Written)
                continue;
            if (slot.Abandoned || now > slot.Deadline)
            {
                Interlocked.Increment(ref _dropped);
                slot.Result.TrySetCanceled();
                continue;
            }

            if (slot.Index != live.Count)
                batch.Tensor.AsSpan(slot.Index * _tensorLength, _tensorLength).CopyTo(batch.Tensor.AsSpan(live.Count * _tensorLength));
            live.Add(slot);
        }

        if (live.Count == 0)
            return;
        try
        {
            using (_metrics.ImageBatch(_model.Name, live.Select(s => (s.Request, s.WrittenAt!.Value)), live.Count))
                _model.Image.Encode(batch.Tensor, live.Count, embeddings);
            Interlocked.Increment(ref _batchCount);
            Interlocked.Add(ref _images, live.Count);
            var size = _model.EmbeddingSize;
            for (var i = 0; i < live.Count; i++)
                live[i].Result.TrySetResult(embeddings.AsSpan(i * size, size).ToArray());
        }
        catch (Exception e)
        {
            LogBatchFailed(_logger, e, _model.Name, live.Count);
            foreach (var slot in live)
                slot.Result.TrySetException(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _stopped = true;
            _pending.Writer.TryComplete();
        }

        await _stopping.CancelAsync();
        // A worker that died has already been reported by the health check; stopping goes on.
        await _worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        _decodes.Dispose();
    }

    /// <summary>One encoder call's tensor and the requests holding slots in it.</summary>
    private sealed class Batch(float[] tensor)
    {
        private readonly Lock _lock = new();
        private int _settled;
        private bool _sealed;

        public float[] Tensor { get; } = tensor;

        /// <summary>Reserved slots, in tensor order; only added to under the batcher's lock, before sealing.</summary>
        public List<Slot> Slots { get; } = [];

        public TaskCompletionSource Full { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes once the batch is sealed and every slot in it is written or given up.</summary>
        public TaskCompletionSource Settled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Seal()
        {
            lock (_lock)
            {
                _sealed = true;
                if (_settled == Slots.Count)
                    Settled.TrySetResult();
            }
        }

        public void SettleOne()
        {
            lock (_lock)
            {
                _settled++;
                if (_sealed && _settled == Slots.Count)
                    Settled.TrySetResult();
            }
        }

        public void CancelAll()
        {
            foreach (var slot in Slots)
                slot.Result.TrySetCanceled();
        }
    }

    /// <summary>One request's place in a batch: its part of the tensor and its result.</summary>
    private sealed class Slot(Batch batch, int index, DateTime deadline, int length, ActivityContext request)
    {
        private int _abandoned;

        public int Index { get; } = index;
        public DateTime Deadline { get; } = deadline;
        public bool Written => WrittenAt is not null;

        /// <summary>When the image was ready for the encoder: its queue wait starts there.</summary>
        public DateTimeOffset? WrittenAt { get; private set; }

        /// <summary>The request's trace, for its queue-wait and encode spans (made on the worker's thread).</summary>
        public ActivityContext Request { get; } = request;
        public bool Abandoned => Volatile.Read(ref _abandoned) != 0;
        public TaskCompletionSource<float[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Where the request writes its preprocessed image, until it settles the slot.</summary>
        public Span<float> Tensor => batch.Tensor.AsSpan(Index * length, length);

        public void Settle(bool written)
        {
            WrittenAt = written ? DateTimeOffset.UtcNow : null;
            batch.SettleOne();
        }

        /// <summary>The request has stopped waiting: its image is not computed if it has not been yet.</summary>
        public void Abandon() => Volatile.Write(ref _abandoned, 1);
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Image batch of {Count} failed on model {Model}")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, string model, int count);
}
