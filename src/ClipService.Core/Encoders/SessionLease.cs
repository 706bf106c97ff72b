using Microsoft.ML.OnnxRuntime;

namespace ClipService.Core.Encoders;

/// <summary>
/// Who holds an ONNX session: every run for its duration, and the encoder that owns it until it is disposed. The
/// session is freed when the last holder lets go, so disposing a model while a run is in progress (a stop under load,
/// a failed start) never frees memory that run reads; a run that starts after disposal gets
/// <see cref="ObjectDisposedException"/> instead of reading freed native memory.
/// </summary>
internal sealed class SessionLease(InferenceSession session, string file, IDisposable? freedFirst = null)
{
    private int _holders = 1; // the owner's hold
    private int _released;

    /// <summary>The session, held until <see cref="Exit"/>.</summary>
    /// <exception cref="ObjectDisposedException">The encoder has been disposed.</exception>
    public InferenceSession Enter()
    {
        var holders = Volatile.Read(ref _holders);
        while (true)
        {
            if (holders == 0 || Volatile.Read(ref _released) == 1)
                throw new ObjectDisposedException(file, $"The encoder for '{file}' has been disposed.");
            var seen = Interlocked.CompareExchange(ref _holders, holders + 1, holders);
            if (seen == holders)
                return session;
            holders = seen;
        }
    }

    public void Exit()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            // What was allocated from the session (its allocator) goes before the session.
            freedFirst?.Dispose();
            session.Dispose();
        }
    }

    /// <summary>The owner's release (idempotent): no new run may start; the session goes with the last one running.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            Exit();
    }

    /// <summary>Whether the session has been freed.</summary>
    public bool IsFreed => Volatile.Read(ref _holders) == 0;
}
