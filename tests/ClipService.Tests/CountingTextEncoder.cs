using ClipService.Inference;

namespace ClipService.Tests;

/// <summary>Stands in for the text encoder behind a <see cref="TextEmbeddingCache"/>: 1,024-d rows (about 4.2 KB a
/// cache entry), counting the texts it computes.</summary>
internal sealed class CountingTextEncoder
{
    private int _computed;

    public int Computed => Volatile.Read(ref _computed);

    public void Reset() => Interlocked.Exchange(ref _computed, 0);

    public Task<TextEmbedding[]> ComputeAsync(IReadOnlyList<int> missing, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _computed, missing.Count);
        return Task.FromResult(missing.Select(_ => new TextEmbedding(new float[1024], 3, false)).ToArray());
    }
}
