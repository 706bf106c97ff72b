using System.Diagnostics;
using System.Threading.RateLimiting;

namespace ClipService.RateLimiting;

/// <summary>
/// One client's fixed window: <c>permits</c> requests per <c>window</c>, the first window starting at the client's first
/// request. A refusal's <see cref="MetadataName.RetryAfter"/> is the time left in the current window (the framework's
/// fixed-window limiter always says the whole window). Never queues.
/// </summary>
internal sealed class ClientWindowLimiter(int permits, TimeSpan window, TimeProvider time) : RateLimiter
{
    private static readonly RateLimitLease Granted = new Lease(true, null);
    private readonly Lock _lock = new();
    private readonly long _started = time.GetTimestamp();
    private long _windowIndex = -1;
    private int _used;
    private long _lastUse = time.GetTimestamp();

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                var elapsed = time.GetElapsedTime(_started);
                return _used == 0 || Index(elapsed) != _windowIndex ? time.GetElapsedTime(_lastUse) : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
            return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, permits - _used) };
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_lock)
        {
            var elapsed = time.GetElapsedTime(_started);
            var index = Index(elapsed);
            if (index != _windowIndex)
            {
                _windowIndex = index;
                _used = 0;
            }

            _lastUse = time.GetTimestamp();
            if (permitCount == 0)
                return _used < permits ? Granted : Refused(elapsed, index);
            if (_used + permitCount <= permits)
            {
                _used += permitCount;
                return Granted;
            }

            return Refused(elapsed, index);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private long Index(TimeSpan elapsed) => elapsed.Ticks / window.Ticks;

    private Lease Refused(TimeSpan elapsed, long index) => new(false, TimeSpan.FromTicks((index + 1) * window.Ticks) - elapsed);

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
