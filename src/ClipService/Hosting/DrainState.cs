namespace ClipService.Hosting;

/// <summary>Whether the process is draining, and how many requests it is serving; readiness reads the first,
/// the shutdown reads the second to tell a clean drain from one that cut work off.</summary>
public sealed class DrainState
{
    private int _draining;
    private int _inFlight;

    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <returns>True the first time only.</returns>
    internal bool BeginDraining() => Interlocked.Exchange(ref _draining, 1) == 0;

    internal async Task TrackAsync(HttpContext context, RequestDelegate next)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await next(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
