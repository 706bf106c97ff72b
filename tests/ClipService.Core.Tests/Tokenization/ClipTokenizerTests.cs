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
    public void The_untruncated_length_says_whether_a_text_was_cut()
    {
        // "a photo of a very large dog running on the beach" is 11 words, one token each, plus start and end.
        var cut = s_builtIn.Value.Tokenize("a photo of a very large dog running on the beach", 5, out var length);
        Assert.Equal(13, length);
        Assert.Equal(5, cut.Length);
        var whole = s_builtIn.Value.Tokenize("a photo of a dog", Context, out var shortLength);
        Assert.Equal(whole.Length, shortLength);
        Assert.Equal(7, shortLength);
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
