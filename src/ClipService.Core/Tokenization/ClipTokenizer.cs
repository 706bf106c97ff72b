using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace ClipService.Core.Tokenization;

/// <summary>
/// OpenAI CLIP's byte-level BPE tokenizer, id for id: the clean-up of <see cref="ClipTextCleaner"/>, CLIP's
/// pre-tokenisation pattern, BPE with the end-of-word marker, start and end tokens, and truncation that
/// keeps the end token last (as <c>clip.tokenize(truncate=True)</c> does). Thread-safe.
/// </summary>
public sealed class ClipTokenizer
{
    private const string EndOfWord = "</w>";

    /// <summary>Words kept in the BPE cache; when it is full it is emptied and refilled with the words in use.</summary>
    internal const int DefaultMaxCachedWords = 50_000;

    /// <summary>Longer words are encoded every time: real words are short, and a client's 100,000-letter "word"
    /// must not be kept (with that bound, the cache holds at most a few tens of MB).</summary>
    internal const int MaxCachedWordLength = 64;

    private static readonly string[] s_contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    private readonly ConcurrentDictionary<string, int[]> _wordCache = new(StringComparer.Ordinal);
    private readonly int _maxCachedWords;

    public ClipTokenizer(BpeVocabulary vocabulary) : this(vocabulary, DefaultMaxCachedWords)
    {
    }

    internal ClipTokenizer(BpeVocabulary vocabulary, int maxCachedWords)
    {
        Vocabulary = vocabulary;
        _maxCachedWords = maxCachedWords;
    }

    /// <summary>Words in the BPE cache now.</summary>
    internal int CachedWordCount => _wordCache.Count;

    public BpeVocabulary Vocabulary { get; }

    /// <summary>The BPE ids of <paramref name="text"/>, without start and end tokens.</summary>
    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        var cleaned = ClipTextCleaner.Clean(text);
        foreach (var (start, length) in PreTokenize(cleaned))
            ids.AddRange(EncodeWord(cleaned.Substring(start, length)));
        return ids;
    }

    /// <summary>
    /// Start token, ids, end token, truncated to <paramref name="contextLength"/> with the end token kept in
    /// the last position; no padding.
    /// </summary>
    public int[] Tokenize(string text, int contextLength) => Tokenize(text, contextLength, out _);

    /// <inheritdoc cref="Tokenize(string, int)"/>
    /// <param name="untruncatedLength">Tokens the text has with start and end, before truncation: more than
    /// <paramref name="contextLength"/> means it was truncated.</param>
    public int[] Tokenize(string text, int contextLength, out int untruncatedLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 2);
        var ids = Encode(text);
        untruncatedLength = ids.Count + 2;
        var count = Math.Min(ids.Count + 2, contextLength);
        var result = new int[count];
        result[0] = Vocabulary.StartOfText;
        ids.CopyTo(0, result, 1, count - 2);
        result[count - 1] = Vocabulary.EndOfText;
        return result;
    }

    /// <summary>CLIP's pattern: special tokens | contractions | letter runs | single digits | runs of the rest.</summary>
    internal static IEnumerable<(int Start, int Length)> PreTokenize(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == ' ')
            {
                i++;
                continue;
            }

            var special = MatchSpecial(text, i);
            if (special > 0)
            {
                yield return (i, special);
                i += special;
                continue;
            }

            if (text[i] == '\'')
            {
                var contraction = MatchContraction(text, i);
                if (contraction > 0)
                {
                    yield return (i, contraction);
                    i += contraction;
                    continue;
                }
            }

            var kind = Classify(text, i, out var runeLength);
            var start = i;
            i += runeLength;
            if (kind == CharKind.Letter)
            {
                while (i < text.Length && Classify(text, i, out runeLength) == CharKind.Letter)
                    i += runeLength;
            }
            else if (kind == CharKind.Other)
            {
                while (i < text.Length && Classify(text, i, out runeLength) == CharKind.Other)
                    i += runeLength;
            }

            yield return (start, i - start);
        }
    }

    private static int MatchSpecial(string text, int i)
    {
        if (text[i] != '<')
            return 0;
        if (string.CompareOrdinal(text, i, BpeVocabulary.StartOfTextToken, 0, BpeVocabulary.StartOfTextToken.Length) == 0)
            return BpeVocabulary.StartOfTextToken.Length;
        if (string.CompareOrdinal(text, i, BpeVocabulary.EndOfTextToken, 0, BpeVocabulary.EndOfTextToken.Length) == 0)
            return BpeVocabulary.EndOfTextToken.Length;
        return 0;
    }

    private static int MatchContraction(string text, int i)
    {
        foreach (var contraction in s_contractions)
        {
            if (string.CompareOrdinal(text, i, contraction, 0, contraction.Length) == 0)
                return contraction.Length;
        }

        return 0;
    }

    private enum CharKind { Space, Letter, Number, Other }

    private static CharKind Classify(string text, int i, out int length)
    {
        if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out length) != System.Buffers.OperationStatus.Done)
        {
            length = 1;
            return CharKind.Other;
        }

        if (rune.Value == ' ')
            return CharKind.Space;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharKind.Number,
            _ => CharKind.Other,
        };
    }

    private int[] EncodeWord(string word)
    {
        if (_wordCache.TryGetValue(word, out var cached))
            return cached;

        int[] ids;
        if (word is BpeVocabulary.StartOfTextToken or BpeVocabulary.EndOfTextToken)
        {
            ids = [Vocabulary.TokenIds[word]];
        }
        else
        {
            var bytes = Encoding.UTF8.GetBytes(word);
            var symbols = new List<string>(bytes.Length);
            foreach (var b in bytes)
                symbols.Add(ByteEncoder.Symbol(b));
            symbols[^1] += EndOfWord;
            Merge(symbols);
            ids = new int[symbols.Count];
            for (var k = 0; k < symbols.Count; k++)
            {
                ids[k] = Vocabulary.TokenIds.TryGetValue(symbols[k], out var id)
                    ? id
                    : throw new InvalidOperationException($"BPE produced '{symbols[k]}', which the vocabulary ({Vocabulary.Source}) lacks.");
            }
        }

        if (word.Length <= MaxCachedWordLength)
        {
            // Emptying a full cache (rather than refusing new words) keeps it serving the words in use now.
            if (_wordCache.Count >= _maxCachedWords)
                _wordCache.Clear();
            _wordCache.TryAdd(word, ids);
        }

        return ids;
    }

    // Repeatedly merge the adjacent pair with the lowest rank, every occurrence left to right.
    private void Merge(List<string> symbols)
    {
        var ranks = Vocabulary.MergeRanks;
        while (symbols.Count > 1)
        {
            var bestRank = int.MaxValue;
            (string, string) best = default;
            for (var k = 0; k < symbols.Count - 1; k++)
            {
                if (ranks.TryGetValue((symbols[k], symbols[k + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (symbols[k], symbols[k + 1]);
                }
            }

            if (bestRank == int.MaxValue)
                return;

            var write = 0;
            for (var read = 0; read < symbols.Count; read++)
            {
                if (read < symbols.Count - 1 && symbols[read] == best.Item1 && symbols[read + 1] == best.Item2)
                {
                    symbols[write++] = best.Item1 + best.Item2;
                    read++;
                }
                else
                {
                    symbols[write++] = symbols[read];
                }
            }

            symbols.RemoveRange(write, symbols.Count - write);
        }
    }
}
