using ClipService.Errors;

namespace ClipService.Admission;

/// <summary>
/// A process-wide budget for downloads made on a client's behalf: at most <see cref="MaxFetches"/> at once and at most
/// <see cref="MaxBytes"/> held by what they downloaded. A request enters before any download and takes as many fetch
/// slots as it has URLs and are free (at least one, or it is refused); its bytes are charged as its buffers grow and
/// stay charged until the request ends, as the images are held until then.
/// </summary>
public sealed class FetchBudget(int maxFetches, long maxBytes)
{
    private readonly Lock _lock = new();
    private int _fetches;
    private long _bytes;

    public int MaxFetches { get; } = maxFetches;
    public long MaxBytes { get; } = maxBytes;

    public static TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Fetches running now.</summary>
    public int Fetches { get { lock (_lock) return _fetches; } }

    /// <summary>Bytes charged now, by requests that have not ended.</summary>
    public long Bytes { get { lock (_lock) return _bytes; } }

    /// <exception cref="ServiceUnavailableException">Every fetch slot is taken, or the bytes in flight are at the cap.</exception>
    public Lease Enter(int urls)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(urls, 1);
        lock (_lock)
        {
            var free = MaxFetches - _fetches;
            if (free <= 0 || _bytes >= MaxBytes)
            {
                throw new ServiceUnavailableException(
                    $"Image URL downloads are at capacity ({_fetches} of {MaxFetches} fetches, {_bytes:N0} of {MaxBytes:N0} bytes held; " +
                    "Clip:ImageUrls:MaxConcurrentFetches, MaxBytesInFlight); retry shortly.", RetryAfter);
            }

            var slots = Math.Min(urls, free);
            _fetches += slots;
            return new Lease(this, slots);
        }
    }

    /// <summary>One request's fetch slots and the bytes its downloads hold. Disposing gives everything back (twice is harmless).</summary>
    public sealed class Lease(FetchBudget budget, int slots) : IDisposable
    {
        private int _slots = slots;
        private long _charged;

        /// <summary>Fetches this request may run at once.</summary>
        public int Slots { get; } = slots;

        /// <summary>Charges <paramref name="bytes"/> more to this request before they are allocated.</summary>
        /// <exception cref="ClientErrorException">413 when this request alone would pass the cap; 503 when others hold the rest.</exception>
        public void Charge(long bytes)
        {
            lock (budget._lock)
            {
                if (budget._bytes + bytes <= budget.MaxBytes)
                {
                    budget._bytes += bytes;
                    _charged += bytes;
                    return;
                }

                if (_charged + bytes > budget.MaxBytes)
                {
                    throw new ClientErrorException(StatusCodes.Status413PayloadTooLarge, "Images too large",
                        $"The images at this request's URLs exceed {budget.MaxBytes:N0} bytes together (Clip:ImageUrls:MaxBytesInFlight); send fewer or smaller images per request.");
                }

                throw new ServiceUnavailableException(
                    $"Image URL downloads hold {budget._bytes:N0} of {budget.MaxBytes:N0} bytes (Clip:ImageUrls:MaxBytesInFlight); retry shortly.", RetryAfter);
            }
        }

        /// <summary>Gives the fetch slots back once the downloads are over; the bytes stay charged until <see cref="Dispose"/>.</summary>
        public void EndFetches()
        {
            lock (budget._lock)
            {
                budget._fetches -= _slots;
                _slots = 0;
            }
        }

        public void Dispose()
        {
            lock (budget._lock)
            {
                budget._fetches -= _slots;
                budget._bytes -= _charged;
                _slots = 0;
                _charged = 0;
            }
        }
    }
}
