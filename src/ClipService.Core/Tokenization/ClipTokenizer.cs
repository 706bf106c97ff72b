using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace ClipService.Core.Tokenization;

/// <summary>
/// OpenAI CLIP's byte-level BPE tokenizer, id for id: the clean-up of <see cref="ClipTextCleaner"/>, CLIP's
/// pre-tokenisation pattern, BPE with the end-of-word marker, start and end tokens, and truncation that
/// keeps the end token last (as <c>clip.tokenize(truncate=True)</c> does). Thread-safe.
/// </summary>
public sealed class ClipTokenizer : IPromptTokenizer
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

    public string Kind => "CLIP BPE";

    /// <summary>The BPE ids of <paramref name="text"/>, without start and end tokens.</summary>
    public List<int> Encode(string text) => Encode(text, int.MaxValue);

    // Stops once more than `limit` ids are known: a prompt is cut to the context anyway, and the words after that
    // point (a client may send thousands) would be encoded for nothing.
    private List<int> Encode(string text, int limit)
    {
        var ids = new List<int>();
        var cleaned = ClipTextCleaner.Clean(text);
        foreach (var (start, length) in PreTokenize(cleaned))
        {
            ids.AddRange(EncodeWord(cleaned.Substring(start, length)));
            if (ids.Count > limit)
                break;
        }

        return ids;
    }

    /// <summary>
    /// Start token, ids, end token, truncated to <paramref name="contextLength"/> with the end token kept in
    /// the last position; no padding.
    /// </summary>
    public int[] Tokenize(string text, int contextLength) => Tokenize(text, contextLength, out _);

    /// <inheritdoc cref="Tokenize(string, int)"/>
    /// <param name="truncated">The text had more tokens than the context holds and was cut.</param>
    public int[] Tokenize(string text, int contextLength, out bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 2);
        var ids = Encode(text, contextLength - 2);
        truncated = ids.Count > contextLength - 2;
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

    /// <summary>Longer words are merged through a priority queue; shorter ones (nearly all) by rescanning, which
    /// is quicker when there are few pairs.</summary>
    internal const int MaxSymbolsToRescan = 48;

    /// <summary>
    /// CLIP's BPE: repeatedly take the adjacent pair with the lowest merge rank and merge every occurrence of it,
    /// left to right.
    /// </summary>
    private void Merge(List<string> symbols)
    {
        if (symbols.Count <= MaxSymbolsToRescan)
            MergeByRescanning(symbols);
        else
            MergeThroughQueue(symbols);
    }

    // The reference's loop: each merge rescans the word, O(n²).
    private void MergeByRescanning(List<string> symbols)
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

    // The same result in O(n log n): pairs wait in a priority queue by (rank, position) and each round merges all of
    // one rank, so a client's 4,096-letter random "word" costs milliseconds, not half a second.
    private void MergeThroughQueue(List<string> symbols)
    {
        var count = symbols.Count;
        var ranks = Vocabulary.MergeRanks;
        var text = symbols.ToArray();
        var next = new int[count];
        var previous = new int[count];
        for (var k = 0; k < count; k++)
        {
            next[k] = k + 1 < count ? k + 1 : -1;
            previous[k] = k - 1;
        }

        var alive = new bool[count];
        Array.Fill(alive, true);
        var queue = new PriorityQueue<PairAt, (int Rank, int Position)>();
        void Offer(int left)
        {
            var right = next[left];
            if (right >= 0 && ranks.TryGetValue((text[left], text[right]), out var rank))
                queue.Enqueue(new PairAt(left, right, text[left], text[right]), (rank, left));
        }

        for (var k = 0; k < count - 1; k++)
            Offer(k);

        var round = new List<PairAt>();
        while (queue.TryDequeue(out var first, out var priority))
        {
            // One rank is one pair of symbols; merging it never makes that pair again (the merged symbol is longer
            // than either part), so all of its occurrences are known before the round starts, in position order.
            round.Clear();
            round.Add(first);
            while (queue.TryPeek(out _, out var following) && following.Rank == priority.Rank)
                round.Add(queue.Dequeue());
            foreach (var pair in round)
            {
                // A pair is stale when either symbol has been merged since it was queued.
                if (!alive[pair.Left] || next[pair.Left] != pair.Right
                    || !ReferenceEquals(text[pair.Left], pair.LeftText) || !ReferenceEquals(text[pair.Right], pair.RightText))
                {
                    continue;
                }

                text[pair.Left] = pair.LeftText + pair.RightText;
                alive[pair.Right] = false;
                next[pair.Left] = next[pair.Right];
                if (next[pair.Left] >= 0)
                    previous[next[pair.Left]] = pair.Left;
                if (previous[pair.Left] >= 0)
                    Offer(previous[pair.Left]);
                Offer(pair.Left);
            }
        }

        symbols.Clear();
        for (var k = 0; k >= 0; k = next[k])
            symbols.Add(text[k]);
    }

    private readonly record struct PairAt(int Left, int Right, string LeftText, string RightText);
}
