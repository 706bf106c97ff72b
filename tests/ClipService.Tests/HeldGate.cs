using ClipService.Inference;

namespace ClipService.Tests;

/// <summary>Occupies an <see cref="InferenceGate"/>'s run slot until disposed, so work queues up behind it.</summary>
internal sealed class HeldGate : IAsyncDisposable
{
    private IDisposable? _lease;

    private HeldGate(IDisposable lease) => _lease = lease;

    public static async Task<HeldGate> HoldAsync(InferenceGate gate) => new(await gate.AcquireAsync(CancellationToken.None));

    /// <summary>Frees the slot.</summary>
    public void Release()
    {
        Interlocked.Exchange(ref _lease, null)?.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Release();
        return ValueTask.CompletedTask;
    }
}
