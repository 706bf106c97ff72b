using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Inference;

/// <summary>The "Clip:TextCache" section.</summary>
public sealed class TextCacheOptions
{
    public const string SectionName = "Clip:TextCache";
    public const int DefaultMaxMegabytes = 64;
    public const int DefaultMaxPercentPerRequest = 25;

    /// <summary>Memory the cached embeddings (and their keys) may take; least recently used entries go first.</summary>
    [Range(0, 65_536)]
    public int MaxMegabytes { get; set; } = DefaultMaxMegabytes;

    /// <summary>Share of the cache one request's new embeddings may fill; the rest of its misses are computed but
    /// not kept, so one request with many new labels cannot evict everyone else's.</summary>
    [Range(1, 100)]
    public int MaxPercentPerRequest { get; set; } = DefaultMaxPercentPerRequest;
}

/// <summary>
/// Text embeddings by model and exact prompt (and ensembles by model, template set and label), bounded in bytes with
/// least-recently-used eviction, and one request's new entries bounded to a share of it. Single-flight: a key being
/// computed is awaited by everyone who misses it, so concurrent requests for the same new label cost one encoder
/// pass; if the request computing it goes away, a request still waiting computes it itself.
/// </summary>
public sealed class TextEmbeddingCache(IOptions<TextCacheOptions> options)
{
    private readonly long _maxBytes = (long)options.Value.MaxMegabytes * 1024 * 1024;
    private readonly long _maxBytesPerRequest = (long)options.Value.MaxMegabytes * 1024 * 1024 * options.Value.MaxPercentPerRequest / 100;
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private readonly Dictionary<string, TaskCompletionSource<TextEmbedding>> _pending = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _bytes;
    private long _hits;
    private long _misses;

    private sealed record Entry(string Key, TextEmbedding Value, long Bytes);

    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);

    public int Count
    {
        get
        {
            lock (_lock)
                return _entries.Count;
        }
    }

    public long Bytes
    {
        get
        {
            lock (_lock)
                return _bytes;
        }
    }

    public static string PromptKey(string model, string prompt) => $"p\u001F{model}\u001F{prompt}";

    public static string EnsembleKey(string model, IReadOnlyList<string> templates, string label) =>
        $"e\u001F{model}\u001F{string.Join('\u001E', templates)}\u001F{label}";

    /// <summary>
    /// The values of <paramref name="keys"/>: cached ones at once, ones being computed by another caller awaited,
    /// and the rest computed by one call of <paramref name="compute"/> with their indexes, which stops when
    /// <paramref name="cancellationToken"/> fires (a caller that goes away stops its own work; anyone waiting for
    /// those keys then computes them).
    /// </summary>
    public async Task<TextEmbedding[]> GetOrComputeAsync(IReadOnlyList<string> keys,
        Func<IReadOnlyList<int>, CancellationToken, Task<TextEmbedding[]>> compute, CancellationToken cancellationToken)
    {
        var results = new TextEmbedding?[keys.Count];
        var waits = new List<(int Index, Task<TextEmbedding> Task)>();
        var owned = new List<(int Index, TaskCompletionSource<TextEmbedding> Source)>();
        var ownedByKey = new Dictionary<string, TaskCompletionSource<TextEmbedding>>(StringComparer.Ordinal);
        lock (_lock)
        {
            for (var i = 0; i < keys.Count; i++)
            {
                if (_entries.TryGetValue(keys[i], out var node))
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    results[i] = node.Value.Value;
                }
                else if (_pending.TryGetValue(keys[i], out var inFlight))
                {
                    waits.Add((i, inFlight.Task));
                }
                else if (ownedByKey.TryGetValue(keys[i], out var mine))
                {
                    waits.Add((i, mine.Task));
                }
                else
                {
                    var source = new TaskCompletionSource<TextEmbedding>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _pending[keys[i]] = source;
                    ownedByKey[keys[i]] = source;
                    owned.Add((i, source));
                }
            }
        }

        Interlocked.Add(ref _hits, keys.Count - owned.Count);
        Interlocked.Add(ref _misses, owned.Count);
        if (owned.Count > 0)
        {
            try
            {
                var computed = await compute([.. owned.Select(o => o.Index)], cancellationToken);
                lock (_lock)
                {
                    var stored = 0L;
                    for (var k = 0; k < owned.Count; k++)
                    {
                        var key = keys[owned[k].Index];
                        _pending.Remove(key);
                        if (stored < _maxBytesPerRequest)
                            stored += Store(key, computed[k]);
                    }
                }

                for (var k = 0; k < owned.Count; k++)
                {
                    results[owned[k].Index] = computed[k];
                    owned[k].Source.SetResult(computed[k]);
                }
            }
            catch (Exception e)
            {
                lock (_lock)
                {
                    foreach (var (index, _) in owned)
                        _pending.Remove(keys[index]);
                }

                foreach (var (_, source) in owned)
                {
                    if (e is OperationCanceledException)
                        source.TrySetCanceled(cancellationToken);
                    else
                        source.TrySetException(e);
                }

                throw;
            }
        }

        var orphaned = new List<int>();
        foreach (var (index, task) in waits)
        {
            try
            {
                results[index] = await task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                orphaned.Add(index);
            }
        }

        if (orphaned.Count > 0)
        {
            // The caller computing these went away before finishing them: this caller still wants them.
            var taken = await GetOrComputeAsync([.. orphaned.Select(i => keys[i])],
                (missing, token) => compute([.. missing.Select(m => orphaned[m])], token), cancellationToken);
            for (var k = 0; k < orphaned.Count; k++)
                results[orphaned[k]] = taken[k];
        }

        return results!;
    }

    // The bytes the entry takes, or 0 if it was not kept.
    private long Store(string key, TextEmbedding value)
    {
        var bytes = value.Vector.Length * sizeof(float) + key.Length * sizeof(char) + 128;
        if (bytes > _maxBytes || _entries.ContainsKey(key))
            return 0;
        _entries[key] = _recency.AddFirst(new Entry(key, value, bytes));
        _bytes += bytes;
        while (_bytes > _maxBytes && _recency.Last is { } oldest)
        {
            _recency.RemoveLast();
            _entries.Remove(oldest.Value.Key);
            _bytes -= oldest.Value.Bytes;
        }

        return bytes;
    }
}
