using BenchmarkDotNet.Attributes;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;
using ClipService.Testing;

namespace ClipService.Benchmarks;

[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private readonly ClipTokenizer _tokenizer = new(BpeVocabulary.OpenAiDefault());
    private readonly string[] _labels =
        [.. Enumerable.Range(0, 100).Select(i => $"a photo of a {ShapeImageGenerator.ColourNames[i % 8]} {ShapeImageGenerator.Shapes[i % 6]} number {i}.")];

    /// <summary>100 prompts, steady state (the word cache warm, as in a running service).</summary>
    [Benchmark]
    public int Tokenize100Prompts()
    {
        var total = 0;
        foreach (var label in _labels)
            total += _tokenizer.Tokenize(label, 77).Length;
        return total;
    }

    /// <summary>One long prompt of words never seen before (BPE merges done from scratch).</summary>
    [Benchmark]
    public int TokenizeUncachedSentence() =>
        new ClipTokenizer(_tokenizer.Vocabulary).Tokenize("photograph of an extraordinarily unusual hippopotamus swimming beneath quixotic waterfalls", 77).Length;

    // A client's worst case within Clip:MaxLabelLength: one 4,096-letter random "word" (never cached, every merge
    // done). Before the priority-queue BPE, each merge rescanned the word: O(n²).
    private readonly string _longWord = new(Enumerable.Range(0, 4096).Select(i => (char)('a' + (i * 7919 % 26 + i / 26) % 26)).ToArray());

    /// <summary>A 4,096-letter word, the longest a label may be.</summary>
    [Benchmark]
    public int TokenizeLongestWord() => _tokenizer.Tokenize(_longWord, 77).Length;
}

[MemoryDiagnoser]
public class ScoringBenchmarks
{
    [Params(10, 1000)]
    public int Labels { get; set; }

    private float[] _image = [];
    private float[] _labelEmbeddings = [];
    private string[] _names = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _image = Unit(512, random);
        _labelEmbeddings = [.. Enumerable.Range(0, Labels).SelectMany(_ => Unit(512, random))];
        _names = [.. Enumerable.Range(0, Labels).Select(i => $"label {i}")];
    }

    /// <summary>Cosines, softmax and ranking for 512-d embeddings.</summary>
    [Benchmark]
    public float Rank() => ZeroShotScorer.Rank(_image, _labelEmbeddings, _names, 100f)[0].Score;

    private static float[] Unit(int size, Random random)
    {
        var v = new float[size];
        for (var i = 0; i < size; i++)
            v[i] = (float)(random.NextDouble() - 0.5);
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }
}
