using System.Text.Json;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Tests.Tokenization;

public sealed class ClipTokenizerTests
{
    private const int Context = 77;

    public sealed record Vector(string Text, int[] Ids, int EotIndex, bool Truncated);

    private static readonly Lazy<IReadOnlyList<Vector>> s_vectors = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Asset("tokenizer", "tokenizer_vectors.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => new Vector(
                c.GetProperty("text").GetString()!,
                c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(),
                c.GetProperty("eot_index").GetInt32(),
                c.GetProperty("truncated").GetBoolean()))
            .ToList();
    });

    private static readonly Lazy<ClipTokenizer> s_fromVocabAndMerges = new(() => new ClipTokenizer(
        BpeVocabulary.FromVocabAndMerges(Path.Combine(TestPaths.TinyModel, "vocab.json"), Path.Combine(TestPaths.TinyModel, "merges.txt"))));

    private static readonly Lazy<ClipTokenizer> s_fromTokenizerJson = new(() => new ClipTokenizer(
        BpeVocabulary.FromTokenizerJson(Path.Combine(TestPaths.DefaultModel, "tokenizer.json"))));

    private static readonly Lazy<ClipTokenizer> s_builtIn = new(() => new ClipTokenizer(BpeVocabulary.OpenAiDefault()));

    public static TheoryData<string> VocabularySources => ["vocab.json+merges.txt", "tokenizer.json", "built-in"];

    private static ClipTokenizer Tokenizer(string source) => source switch
    {
        "vocab.json+merges.txt" => s_fromVocabAndMerges.Value,
        "tokenizer.json" => s_fromTokenizerJson.Value,
        _ => s_builtIn.Value,
    };

    [Theory]
    [MemberData(nameof(VocabularySources))]
    public void Every_reference_vector_is_reproduced_id_for_id(string source)
    {
        var tokenizer = Tokenizer(source);
        var failures = s_vectors.Value
            .Select(v => (v, actual: tokenizer.Tokenize(v.Text, Context)))
            .Where(x => !x.actual.SequenceEqual(x.v.Ids))
            .Select(x => $"{JsonSerializer.Serialize(x.v.Text)}: expected [{string.Join(",", x.v.Ids)}], got [{string.Join(",", x.actual)}]")
            .ToList();

        Assert.True(s_vectors.Value.Count >= 40, "the reference file should hold the full set of cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Truncation_keeps_the_end_token_in_the_last_position()
    {
        var tokenizer = s_builtIn.Value;
        var truncated = s_vectors.Value.Where(v => v.Truncated).ToList();
        Assert.NotEmpty(truncated);
        foreach (var vector in truncated)
        {
            var ids = tokenizer.Tokenize(vector.Text, Context);
            Assert.Equal(Context, ids.Length);
            Assert.Equal(49407, ids[^1]);
            Assert.Equal(Context - 1, vector.EotIndex);
        }
    }

    [Fact]
    public void Short_context_lengths_truncate_the_same_way()
    {
        var ids = s_builtIn.Value.Tokenize("a photo of a very large dog running on the beach", 5);
        Assert.Equal([49406, 320, 1125, 539, 49407], ids);
    }

    [Fact]
    public void Truncation_is_reported()
    {
        // Eleven words, one token each: 13 with start and end.
        const string text = "a photo of a very large dog running on the beach";
        var fits = s_builtIn.Value.Tokenize(text, 13, out var fitsTruncated);
        Assert.False(fitsTruncated);
        Assert.Equal(13, fits.Length);
        var cut = s_builtIn.Value.Tokenize(text, 12, out var cutTruncated);
        Assert.True(cutTruncated);
        Assert.Equal(fits[..11], cut[..11]);
        Assert.Equal(49407, cut[^1]);
        Assert.False(s_builtIn.Value.Tokenize("a photo of a dog", Context, out var shortTruncated).Length != 7 || shortTruncated);
    }

    [Fact]
    public void A_text_far_longer_than_the_context_is_cut_as_its_beginning_is()
    {
        var words = Enumerable.Range(0, 100_000).Select(i => ((char)('a' + i % 26)).ToString() + (i % 7 == 0 ? "ing" : "")).ToArray();
        var whole = s_builtIn.Value.Tokenize(string.Join(' ', words), Context, out var wholeTruncated);
        var beginning = s_builtIn.Value.Tokenize(string.Join(' ', words[..200]), Context, out var beginningTruncated);
        Assert.True(wholeTruncated);
        Assert.True(beginningTruncated);
        Assert.Equal(beginning, whole);
    }

    [Theory]
    [InlineData("abcdefghijklmnopqrstuvwxyz", 1)]
    [InlineData("aeiou", 2)]
    [InlineData("ab", 3)]
    [InlineData("aa", 4)]
    [InlineData("thequickbrownfoxjumpsoverthelazydog", 5)]
    [InlineData("éßøğ漢字😀-_.,!?", 6)]
    public void Long_words_merge_exactly_as_the_reference_loop_does(string alphabet, int seed)
    {
        // The reference (CLIP's simple_tokenizer) scans every pair on each merge; the tokenizer uses a priority
        // queue. Long random words over small alphabets make many equal and overlapping pairs.
        var random = new Random(seed);
        var vocabulary = s_builtIn.Value.Vocabulary;
        var tokenizer = new ClipTokenizer(vocabulary);
        var letters = alphabet.EnumerateRunes().Select(r => r.ToString()).ToArray();
        foreach (var length in new[] { 1, 2, 3, 7, 40, 300, 2_000 })
        {
            for (var trial = 0; trial < (length < 2_000 ? 5 : 1); trial++)
            {
                var word = string.Concat(Enumerable.Range(0, length).Select(_ => letters[random.Next(letters.Length)]));
                foreach (var (start, count) in ClipTokenizer.PreTokenize(word))
                {
                    var piece = word.Substring(start, count);
                    Assert.Equal(ReferenceBpe(vocabulary, piece), tokenizer.Encode(piece));
                }
            }
        }
    }

    private static List<int> ReferenceBpe(BpeVocabulary vocabulary, string word)
    {
        var symbols = System.Text.Encoding.UTF8.GetBytes(word).Select(ByteEncoder.Symbol).ToList();
        symbols[^1] += "</w>";
        while (symbols.Count > 1)
        {
            var best = int.MaxValue;
            (string First, string Second) bigram = default;
            for (var k = 0; k < symbols.Count - 1; k++)
            {
                if (vocabulary.MergeRanks.TryGetValue((symbols[k], symbols[k + 1]), out var rank) && rank < best)
                    (best, bigram) = (rank, (symbols[k], symbols[k + 1]));
            }

            if (best == int.MaxValue)
                break;
            var (first, second) = bigram;
            var merged = new List<string>();
            for (var i = 0; i < symbols.Count; i++)
            {
                if (i < symbols.Count - 1 && symbols[i] == first && symbols[i + 1] == second)
                {
                    merged.Add(first + second);
                    i++;
                }
                else
                {
                    merged.Add(symbols[i]);
                }
            }

            symbols = merged;
        }

        return [.. symbols.Select(s => vocabulary.TokenIds[s])];
    }

    [Fact]
    public void Html_entities_are_unescaped_as_openai_does()
    {
        // OpenAI unescapes HTML twice; transformers.js does not (a documented divergence).
        Assert.Equal([49406, 2759, 261, 8855, 283, 321, 285, 49407], s_builtIn.Value.Tokenize("fish &amp; chips &lt;b&gt;", Context));
    }

    [Fact]
    public void Special_token_text_is_matched_after_lower_casing()
    {
        Assert.Equal([49406, 49407, 7067, 268, 2068, 1689, 49407], s_builtIn.Value.Tokenize("<|ENDOFTEXT|> upper-case special", Context));
    }

    [Fact]
    public void Lone_surrogates_do_not_throw()
    {
        var ids = s_builtIn.Value.Tokenize("cat \ud800 dog", Context);
        Assert.Equal(49406, ids[0]);
        Assert.Equal(49407, ids[^1]);
        Assert.True(ids.Length > 3);
    }

    [Fact]
    public void Concurrent_use_gives_the_same_ids_as_sequential_use()
    {
        var tokenizer = new ClipTokenizer(BpeVocabulary.OpenAiDefault());
        var texts = s_vectors.Value.Select(v => v.Text).ToArray();
        var expected = texts.Select(t => s_builtIn.Value.Tokenize(t, Context)).ToArray();
        var results = new int[texts.Length * 8][];
        Parallel.For(0, results.Length, i => results[i] = tokenizer.Tokenize(texts[i % texts.Length], Context));
        for (var i = 0; i < results.Length; i++)
            Assert.Equal(expected[i % texts.Length], results[i]);
    }

    [Fact]
    public void The_three_vocabulary_sources_agree_on_every_id()
    {
        var a = s_fromVocabAndMerges.Value.Vocabulary;
        var b = s_fromTokenizerJson.Value.Vocabulary;
        var c = s_builtIn.Value.Vocabulary;
        Assert.Equal(49408, a.Count);
        Assert.Equal(49408, c.Count);
        foreach (var (token, id) in c.TokenIds)
        {
            Assert.True(a.TryGetId(token, out var idA) && idA == id, $"vocab.json: {token}");
            Assert.True(b.TryGetId(token, out var idB) && idB == id, $"tokenizer.json: {token}");
        }
    }
}
