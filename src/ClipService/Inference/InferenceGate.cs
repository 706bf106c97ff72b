using ClipService.Errors;
using Microsoft.Extensions.Options;

namespace ClipService.Inference;

/// <summary>
/// Bounds encoder work: at most <see cref="InferenceOptions.MaxConcurrentRuns"/> runs, at most
/// <see cref="InferenceOptions.MaxQueuedRequests"/> waiting (asynchronously), each for at most the request
/// timeout. Beyond that a request gets 503 with Retry-After instead of piling up.
/// </summary>
public sealed class InferenceGate(IOptions<InferenceOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _runs = new(options.Value.MaxConcurrentRuns, options.Value.MaxConcurrentRuns);
    private readonly int _capacity = options.Value.MaxConcurrentRuns + options.Value.MaxQueuedRequests;
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds);
    private int _inFlight;

    /// <summary>Requests running or waiting.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Runs <paramref name="work"/> once a run slot is free.</summary>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        using var lease = await AcquireAsync(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return work();
    }

    /// <summary>Completes once no request is running or waiting (checked every <see cref="IdlePoll"/>): background
    /// work (the label-set precompute) then runs one short run outside the gate, on its own one-thread session, so
    /// it takes no encoder time from traffic.</summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        while (InFlight > 0)
            await Task.Delay(IdlePoll, cancellationToken);
        // An idle service that is stopping must not start another background run.
        cancellationToken.ThrowIfCancellationRequested();
    }

    internal static TimeSpan IdlePoll { get; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Waits for a run slot; disposing the lease frees it.</summary>
    /// <param name="bypassQueueLimit">For work admitted elsewhere (the image batch worker, whose own queue is
    /// bounded): it waits its turn like any other but is never refused.</param>
    /// <exception cref="ServiceUnavailableException">At capacity, or no slot within the request timeout.</exception>
    public async Task<IDisposable> AcquireAsync(CancellationToken cancellationToken, bool bypassQueueLimit = false)
    {
        if (Interlocked.Increment(ref _inFlight) > _capacity && !bypassQueueLimit)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new ServiceUnavailableException("The service is at capacity; retry shortly.", TimeSpan.FromSeconds(1));
        }

        try
        {
            var timeout = bypassQueueLimit ? Timeout.InfiniteTimeSpan : _timeout;
            if (!await _runs.WaitAsync(timeout, cancellationToken))
                throw new ServiceUnavailableException($"No encoder became free within {_timeout.TotalSeconds:F0} s; retry shortly.", TimeSpan.FromSeconds(2), RejectionReasons.Deadline);
            return new Lease(this);
        }
        catch
        {
            Interlocked.Decrement(ref _inFlight);
            throw;
        }
    }

    private sealed class Lease(InferenceGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            gate._runs.Release();
            Interlocked.Decrement(ref gate._inFlight);
        }
    }

    public void Dispose() => _runs.Dispose();
}
