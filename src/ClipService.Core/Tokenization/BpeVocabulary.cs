using System.IO.Compression;
using System.Text.Json;
using ClipService.Core.Models;

namespace ClipService.Core.Tokenization;

/// <summary>CLIP's byte-level BPE vocabulary: token ids and merge ranks, from any of the files CLIP folders carry.</summary>
public sealed class BpeVocabulary
{
    public const string StartOfTextToken = "<|startoftext|>";
    public const string EndOfTextToken = "<|endoftext|>";

    // OpenAI's file holds more merges than CLIP uses: it keeps 49152 - 256 - 2 of them.
    private const int OpenAiMergeCount = 49152 - 256 - 2;
    private const string EmbeddedVocabularyName = "bpe_simple_vocab_16e6.txt.gz";

    internal BpeVocabulary(Dictionary<string, int> tokenIds, IReadOnlyList<(string Left, string Right)> merges, string source)
    {
        TokenIds = tokenIds;
        Source = source;
        MergeRanks = new Dictionary<(string, string), int>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
            MergeRanks.TryAdd(merges[rank], rank);
        StartOfText = Require(StartOfTextToken);
        EndOfText = Require(EndOfTextToken);
    }

    internal Dictionary<string, int> TokenIds { get; }
    internal Dictionary<(string, string), int> MergeRanks { get; }
    public int StartOfText { get; }
    public int EndOfText { get; }
    public int Count => TokenIds.Count;

    /// <summary>Where the vocabulary came from, for diagnostics.</summary>
    public string Source { get; }

    public bool TryGetId(string token, out int id) => TokenIds.TryGetValue(token, out id);

    private int Require(string token) =>
        TokenIds.TryGetValue(token, out var id)
            ? id
            : throw new ModelFolderException($"The tokenizer vocabulary ({Source}) has no '{token}' token; it is not a CLIP vocabulary.");

    /// <summary>The Hugging Face pair: vocab.json and merges.txt.</summary>
    public static BpeVocabulary FromVocabAndMerges(string vocabJsonPath, string mergesPath)
    {
        Dictionary<string, int> ids;
        try
        {
            using var stream = File.OpenRead(vocabJsonPath);
            ids = JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
                  ?? throw new ModelFolderException($"{vocabJsonPath} is empty.");
        }
        catch (JsonException e)
        {
            throw new ModelFolderException($"{vocabJsonPath} is not a JSON object of token → id: {e.Message}", e);
        }

        var merges = new List<(string, string)>();
        foreach (var line in File.ReadLines(mergesPath))
        {
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal))
                continue;
            merges.Add(SplitMerge(line, mergesPath));
        }

        return new BpeVocabulary(ids, merges, $"{Path.GetFileName(vocabJsonPath)} + {Path.GetFileName(mergesPath)}");
    }

    /// <summary>A Hugging Face tokenizer.json with a BPE model.</summary>
    public static BpeVocabulary FromTokenizerJson(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            var model = doc.RootElement.GetProperty("model");
            if (model.TryGetProperty("type", out var type) && type.GetString() != "BPE")
                throw new ModelFolderException($"{path} describes a {type.GetString()} tokenizer; CLIP needs BPE.");

            var ids = new Dictionary<string, int>();
            foreach (var entry in model.GetProperty("vocab").EnumerateObject())
                ids[entry.Name] = entry.Value.GetInt32();
            if (doc.RootElement.TryGetProperty("added_tokens", out var added))
            {
                foreach (var token in added.EnumerateArray())
                    ids[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
            }

            var merges = new List<(string, string)>();
            foreach (var merge in model.GetProperty("merges").EnumerateArray())
            {
                // Older files write a merge as "a b", newer ones as ["a", "b"].
                merges.Add(merge.ValueKind == JsonValueKind.Array
                    ? (merge[0].GetString()!, merge[1].GetString()!)
                    : SplitMerge(merge.GetString()!, path));
            }

            return new BpeVocabulary(ids, merges, Path.GetFileName(path));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelFolderException($"{path} is not a BPE tokenizer.json (model.vocab and model.merges expected): {e.Message}", e);
        }
    }

    /// <summary>OpenAI's own merge list, bpe_simple_vocab_16e6.txt.gz, from which the ids are derived.</summary>
    public static BpeVocabulary FromOpenAiMerges(Stream gzipStream, string source)
    {
        using var gzip = new GZipStream(gzipStream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        reader.ReadLine(); // version header
        var merges = new List<(string, string)>(OpenAiMergeCount);
        while (merges.Count < OpenAiMergeCount && reader.ReadLine() is { } line)
            merges.Add(SplitMerge(line, source));

        var ids = new Dictionary<string, int>(49408);
        var byteSymbols = ByteEncoder.Symbols;
        foreach (var symbol in byteSymbols)
            ids[symbol] = ids.Count;
        foreach (var symbol in byteSymbols)
            ids[symbol + "</w>"] = ids.Count;
        foreach (var (left, right) in merges)
            ids[left + right] = ids.Count;
        ids[StartOfTextToken] = ids.Count;
        ids[EndOfTextToken] = ids.Count;
        return new BpeVocabulary(ids, merges, source);
    }

    /// <summary>OpenAI's vocabulary as shipped inside this library (MIT licence beside it).</summary>
    public static BpeVocabulary OpenAiDefault()
    {
        using var stream = typeof(BpeVocabulary).Assembly.GetManifestResourceStream(EmbeddedVocabularyName)
                           ?? throw new InvalidOperationException($"The embedded {EmbeddedVocabularyName} is missing from the build.");
        return FromOpenAiMerges(stream, $"built-in {EmbeddedVocabularyName}");
    }

    private static (string, string) SplitMerge(string line, string source)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == line.Length - 1)
            throw new ModelFolderException($"{source}: '{line}' is not a merge of two symbols.");
        return (line[..space], line[(space + 1)..]);
    }
}
