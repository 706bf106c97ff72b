namespace ClipService.Inference;

/// <summary>One text's (or one label's ensembled) embedding, with what the tokenizer made of it.</summary>
/// <param name="Vector">L2-normalised embedding; owned by whoever holds this value, never written after creation.</param>
/// <param name="Tokens">Tokens the encoder read (start and end included, at most the context length); for an
/// ensemble, the sum over its prompts.</param>
/// <param name="Truncated">The text (or one of the ensemble's prompts) was longer than the context and was cut,
/// keeping the end token, as CLIP's reference does.</param>
public sealed record TextEmbedding(ReadOnlyMemory<float> Vector, int Tokens, bool Truncated);

/// <summary>Embeddings of a request's texts or labels, one row each, in request order.</summary>
public sealed class TextEmbeddings
{
    private readonly IReadOnlyList<TextEmbedding> _items;

    public TextEmbeddings(IReadOnlyList<TextEmbedding> items)
    {
        _items = items;
        var rows = new ReadOnlyMemory<float>[items.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = items[i].Vector;
            Tokens += items[i].Tokens;
            Truncated += items[i].Truncated ? 1 : 0;
        }

        Rows = rows;
    }

    /// <summary>One L2-normalised row per input.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> Rows { get; }

    /// <summary>Tokens the encoder read for all inputs.</summary>
    public int Tokens { get; }

    /// <summary>How many inputs were longer than the context and truncated.</summary>
    public int Truncated { get; }

    /// <summary>Tokens the encoder read for input <paramref name="index"/>.</summary>
    public int TokensOf(int index) => _items[index].Tokens;

    /// <summary>Whether input <paramref name="index"/> was truncated.</summary>
    public bool IsTruncated(int index) => _items[index].Truncated;
}
