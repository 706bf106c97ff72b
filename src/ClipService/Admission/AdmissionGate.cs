using ClipService.Errors;

namespace ClipService.Admission;

/// <summary>
/// Counts one model's requests that encode (images or texts) from the moment they arrive until they leave, whatever stage they are in.
/// Entering is one interlocked add, so a refusal costs nothing like the read, decode or encode it spares.
/// </summary>
public sealed class AdmissionGate(string model, int capacity)
{
    private int _inside;

    public string Model { get; } = model;
    public int Capacity { get; } = capacity;
    public int Inside => Volatile.Read(ref _inside);

    public static TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(1);

    public string RefusalMessage => $"Model '{Model}' has {Capacity} requests in progress; retry shortly.";

    /// <exception cref="ServiceUnavailableException">The model already has <see cref="Capacity"/> requests inside.</exception>
    public Ticket Enter() => TryEnter() ?? throw new ServiceUnavailableException(RefusalMessage, RetryAfter);

    /// <summary>A ticket, or null when the model already has <see cref="Capacity"/> requests inside.</summary>
    public Ticket? TryEnter()
    {
        if (Interlocked.Increment(ref _inside) <= Capacity)
            return new Ticket(this);
        Interlocked.Decrement(ref _inside);
        return null;
    }

    /// <summary>A request's place inside the gate, given back once (disposing twice is harmless).</summary>
    public sealed class Ticket(AdmissionGate gate) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
                Interlocked.Decrement(ref gate._inside);
        }
    }
}
