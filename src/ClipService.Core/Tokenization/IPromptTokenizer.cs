namespace ClipService.Core.Tokenization;

/// <summary>
/// Turns a prompt into the ids a text tower takes: the family's special tokens included, cut to the context so
/// that the end tokens stay last. Implementations are thread-safe.
/// </summary>
public interface IPromptTokenizer
{
    /// <summary>What kind of tokenizer this is, for <c>GET /models</c> (e.g. "CLIP BPE", "Unigram").</summary>
    string Kind { get; }

    /// <exception cref="TextNotTokenizableException">The text cannot be tokenised (a lone surrogate).</exception>
    int[] Tokenize(string text, int contextLength, out bool truncated);

    int[] Tokenize(string text, int contextLength) => Tokenize(text, contextLength, out _);
}

/// <summary>Text the tokenizer refuses (invalid UTF-16); the client's input, answered with 400.</summary>
public sealed class TextNotTokenizableException(string message) : ArgumentException(message);
