using System.Text.Json;
using System.Text.Json.Nodes;
using ClipService.Core.Models;
using NativeTokenizer = Tokenizers.DotNet.Tokenizer;
using NativeTokenizerException = Tokenizers.DotNet.TokenizerException;

namespace ClipService.Core.Tokenization;

/// <summary>How a family adjusts a shipped <c>tokenizer.json</c> before it is used.</summary>
/// <param name="Lowercase">Put a <c>Lowercase</c> normalizer first: the model was trained on lowercased text but the
/// file does not say so (SigLIP 2). Done inside the tokenizer, as Python's <c>str.lower</c>, not .NET's, with the
/// final-sigma rule the normalizer lacks applied first (<see cref="FinalSigma"/>).</param>
/// <param name="EndTokenOnly">Replace the post-processor by "text, then this token" (no start token).</param>
/// <param name="Cleaning">open_clip's cleaning of the text before it is tokenised (immich's exports).</param>
public sealed record TokenizerAdjustments(bool Lowercase = false, string? EndTokenOnly = null, TextCleaning Cleaning = TextCleaning.None)
{
    public static readonly TokenizerAdjustments None = new();
}

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> (Unigram, WordPiece, BPE) run by the Rust <c>tokenizers</c> core through
/// Tokenizers.DotNet, so normalisation, pre-tokenisation and special tokens are Hugging Face's own. The file's
/// padding and truncation blocks are removed (the native side would apply them); truncation here keeps the
/// post-processor's end tokens, as Hugging Face's does. Thread-safe.
/// </summary>
public sealed class HuggingFaceTokenizer : IPromptTokenizer, IDisposable
{
    private readonly NativeTokenizer _native;
    private bool _disposed;
    private readonly Dictionary<string, int> _specialIds;

    // The native handle is not documented as safe for concurrent calls; a prompt takes microseconds.
    private readonly Lock _gate = new();

    private readonly LowercaseStep? _lowercase;
    private readonly TextCleaning _cleaning;

    private HuggingFaceTokenizer(NativeTokenizer native, string kind, int suffixTokens, Dictionary<string, int> specialIds, LowercaseStep? lowercase, TextCleaning cleaning)
    {
        _native = native;
        _lowercase = lowercase;
        _cleaning = cleaning;
        Kind = kind;
        SuffixTokens = suffixTokens;
        _specialIds = specialIds;
    }

    /// <summary>The tokenizer model of the file: "Unigram", "WordPiece" or "BPE".</summary>
    public string Kind { get; }

    /// <summary>Tokens the post-processor puts after the text (kept when a prompt is cut).</summary>
    public int SuffixTokens { get; }

    public static HuggingFaceTokenizer Load(string path, TokenizerAdjustments? adjustments = null)
    {
        adjustments ??= TokenizerAdjustments.None;
        JsonObject root;
        try
        {
            using var stream = File.OpenRead(path);
            root = JsonNode.Parse(stream)?.AsObject() ?? throw new ModelFolderException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new ModelFolderException($"{path} is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFolderException($"{path} is not a tokenizer.json object: {e.Message}", e);
        }

        try
        {
            return Load(path, root, adjustments);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException or OverflowException)
        {
            // A field of the wrong JSON type (a number where a string goes, an id beyond int32): the file and what failed.
            throw new ModelFolderException($"{path}: a field has an unexpected type or value ({e.Message}).", e);
        }
    }

    private static HuggingFaceTokenizer Load(string path, JsonObject root, TokenizerAdjustments adjustments)
    {
        var kind = root["model"]?["type"]?.GetValue<string>()
            ?? throw new ModelFolderException($"{path}: no model.type; expected a Hugging Face tokenizer.json.");
        var specialIds = SpecialTokenIds(root);
        Adjust(root, adjustments, specialIds, path);

        // The native constructor takes a path only: it reads an adjusted copy, which is deleted straight after.
        var copy = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"clipservice-tokenizer-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(copy, root.ToJsonString());
            var native = new NativeTokenizer(copy);
            try
            {
                var tokenizer = new HuggingFaceTokenizer(native, kind, SuffixTokenCount(root["post_processor"]), specialIds, LowercaseStep.Find(root["normalizer"]), adjustments.Cleaning);
                var empty = native.Encode("");
                if (empty.Length < tokenizer.SuffixTokens)
                    throw new ModelFolderException($"{path}: the post-processor's template does not match what it adds.");
                return tokenizer;
            }
            catch
            {
                native.Dispose();
                throw;
            }
        }
        catch (NativeTokenizerException e)
        {
            throw new ModelFolderException($"{path}: the tokenizer library cannot read it ({e.Message}).", e);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            throw new ModelFolderException($"The native tokenizer library (Tokenizers.DotNet, needs glibc 2.34 or newer) cannot be loaded: {e.Message}", e);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>The id of a special (added) token, or of a token of the model's vocabulary.</summary>
    public bool TryGetId(string token, out int id) => _specialIds.TryGetValue(token, out id);

    public int[] Tokenize(string text, int contextLength) => Tokenize(text, contextLength, out _);

    public int[] Tokenize(string text, int contextLength, out bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, SuffixTokens + 1);
        uint[] ids;
        try
        {
            var cleaned = OpenClipText.Clean(text, _cleaning);
            var normalisable = _lowercase is { } step ? FinalSigma.Apply(cleaned, step.RemovedBefore) : cleaned;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                ids = _native.Encode(normalisable);
            }
        }
        catch (NativeTokenizerException e)
        {
            throw new TextNotTokenizableException($"The text cannot be tokenised: {e.Message}.");
        }

        truncated = ids.Length > contextLength;
        var count = Math.Min(ids.Length, contextLength);
        var result = new int[count];
        var head = count - (truncated ? SuffixTokens : 0);
        for (var i = 0; i < head; i++)
            result[i] = checked((int)ids[i]);
        for (var i = head; i < count; i++)
            result[i] = checked((int)ids[ids.Length - (count - i)]);
        return result;
    }

    /// <summary>Frees the native tokenizer, after a call in progress (it holds the same lock); later calls throw.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _native.Dispose();
        }
    }

    private static void Adjust(JsonObject root, TokenizerAdjustments adjustments, Dictionary<string, int> specialIds, string path)
    {
        root["padding"] = null;
        root["truncation"] = null;
        if (adjustments.Lowercase || OpenClipText.Lowercases(adjustments.Cleaning))
        {
            var lowercase = new JsonObject { ["type"] = "Lowercase" };
            var existing = root["normalizer"]?.DeepClone();
            root["normalizer"] = existing is null
                ? lowercase
                : new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(lowercase, existing) };
        }

        if (adjustments.EndTokenOnly is { } end)
        {
            if (!specialIds.TryGetValue(end, out var endId))
                throw new ModelFolderException($"{path}: has no token '{end}' to end every prompt with.");
            root["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Sequence("A"), Special(end)),
                ["pair"] = new JsonArray(Sequence("A"), Special(end), Sequence("B"), Special(end)),
                ["special_tokens"] = new JsonObject
                {
                    [end] = new JsonObject { ["id"] = end, ["ids"] = new JsonArray(endId), ["tokens"] = new JsonArray(end) },
                },
            };
        }

        static JsonObject Sequence(string id) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = 0 } };
        static JsonObject Special(string id) => new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = 0 } };
    }

    // How many of a single sequence's special tokens come after the text, per post-processor type.
    private static int SuffixTokenCount(JsonNode? processor)
    {
        switch (processor?["type"]?.GetValue<string>())
        {
            case "TemplateProcessing":
                var single = processor["single"]?.AsArray() ?? [];
                var afterText = false;
                var suffix = 0;
                foreach (var piece in single)
                {
                    if (piece?["Sequence"] is not null)
                        afterText = true;
                    else if (afterText && piece?["SpecialToken"] is not null)
                        suffix++;
                }

                return suffix;
            case "BertProcessing" or "RobertaProcessing":
                return 1;
            case "Sequence":
                return (processor["processors"]?.AsArray() ?? []).Sum(SuffixTokenCount);
            default:
                return 0;
        }
    }

    private static Dictionary<string, int> SpecialTokenIds(JsonObject root)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        switch (root["model"]?["vocab"])
        {
            case JsonObject vocab:
                foreach (var (token, id) in vocab)
                {
                    if (id is JsonValue value && value.TryGetValue<int>(out var number))
                        ids[token] = number;
                }

                break;
            case JsonArray pieces:
                // Unigram: [piece, score] pairs, the id being the position.
                for (var i = 0; i < pieces.Count; i++)
                {
                    if (pieces[i]?[0]?.GetValue<string>() is { } piece)
                        ids.TryAdd(piece, i);
                }

                break;
        }

        foreach (var added in root["added_tokens"]?.AsArray() ?? [])
        {
            if (added?["content"]?.GetValue<string>() is { } content && added["id"]?.GetValue<int>() is { } id)
                ids[content] = id;
        }

        return ids;
    }
}
