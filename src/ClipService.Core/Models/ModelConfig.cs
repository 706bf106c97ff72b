using System.Text.Json;

namespace ClipService.Core.Models;

/// <summary>
/// What a model folder's configuration files say, read once: <c>config.json</c> (Hugging Face's or open_clip's),
/// the tokenizer's config and the kind of its <c>tokenizer.json</c>. Families are chosen from these facts.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>config.json <c>model_type</c> ("clip", "siglip", "chinese_clip", …); null when absent.</summary>
    public string? ModelType { get; init; }

    /// <summary>text_config.max_position_embeddings (Hugging Face) or text_cfg.context_length (open_clip).</summary>
    public int? TextPositions { get; init; }

    /// <summary>text_config.vocab_size.</summary>
    public int? TextVocabSize { get; init; }

    /// <summary>projection_dim (Hugging Face) or embed_dim (open_clip).</summary>
    public int? ProjectionDim { get; init; }

    /// <summary>The trained scale (linear, not its logarithm): config.json <c>trained_logit_scale</c>.</summary>
    public float? TrainedLogitScale { get; init; }

    /// <summary>The trained bias of a sigmoid-scored model: config.json <c>trained_logit_bias</c>.</summary>
    public float? TrainedLogitBias { get; init; }

    /// <summary>True when the config has an initial logit bias (open_clip's <c>init_logit_bias</c>): a sigmoid-trained
    /// model. The value is an initialiser, never used for scoring.</summary>
    public bool DeclaresLogitBias { get; init; }

    /// <summary>tokenizer_class from config.json or tokenizer_config.json.</summary>
    public string? TokenizerClass { get; init; }

    /// <summary>tokenizer.json model.type ("BPE", "Unigram", "WordPiece"); null without a tokenizer.json.</summary>
    public string? TokenizerModel { get; init; }

    /// <summary>tokenizer.json's BPE end-of-word suffix ("&lt;/w&gt;" for CLIP's BPE).</summary>
    public string? TokenizerEndOfWordSuffix { get; init; }

    /// <summary>The pad token the tokenizer config names.</summary>
    public string? PadToken { get; init; }

    /// <summary>open_clip's <c>text_cfg.tokenizer_kwargs.clean</c> (immich's exports); null when absent.</summary>
    public string? OpenClipTextClean { get; init; }

    public static ModelConfig Read(string? configPath, string tokenizerDirectory)
    {
        var config = new ModelConfig();
        if (configPath is not null)
        {
            using var doc = Parse(configPath);
            var root = doc.RootElement;
            var text = root.TryGetProperty("text_config", out var hf) ? hf : root.TryGetProperty("text_cfg", out var oc) ? oc : default;
            config = config with
            {
                ModelType = String(root, "model_type"),
                TextPositions = Int(text, "max_position_embeddings", configPath) ?? Int(text, "context_length", configPath),
                TextVocabSize = Int(text, "vocab_size", configPath),
                ProjectionDim = Int(root, "projection_dim", configPath) ?? Int(root, "embed_dim", configPath),
                TrainedLogitScale = Float(root, "trained_logit_scale", configPath),
                TrainedLogitBias = Float(root, "trained_logit_bias", configPath),
                DeclaresLogitBias = root.ValueKind == JsonValueKind.Object
                    && (root.TryGetProperty("init_logit_bias", out _) || root.TryGetProperty("trained_logit_bias", out _)),
                TokenizerClass = String(root, "tokenizer_class"),
                OpenClipTextClean = text.ValueKind == JsonValueKind.Object && text.TryGetProperty("tokenizer_kwargs", out var kwargs) ? String(kwargs, "clean") : null,
            };
            if (config.TrainedLogitScale is <= 0 or > 1000)
                throw new ModelFolderException($"{configPath}: trained_logit_scale must be in (0, 1000], the linear scale (not its logarithm).");
        }

        var tokenizerConfig = Path.Combine(tokenizerDirectory, "tokenizer_config.json");
        var specialTokens = Path.Combine(tokenizerDirectory, "special_tokens_map.json");
        foreach (var path in new[] { tokenizerConfig, specialTokens })
        {
            if (!File.Exists(path))
                continue;
            using var doc = Parse(path);
            config = config with
            {
                TokenizerClass = config.TokenizerClass ?? String(doc.RootElement, "tokenizer_class"),
                PadToken = config.PadToken ?? TokenText(doc.RootElement, "pad_token"),
            };
        }

        var tokenizerJson = Path.Combine(tokenizerDirectory, "tokenizer.json");
        if (File.Exists(tokenizerJson))
        {
            using var doc = Parse(tokenizerJson);
            if (doc.RootElement.TryGetProperty("model", out var model))
            {
                config = config with
                {
                    TokenizerModel = String(model, "type"),
                    TokenizerEndOfWordSuffix = String(model, "end_of_word_suffix"),
                };
            }
        }

        return config;
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var doc = JsonDocument.Parse(stream);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
                return doc;
            doc.Dispose();
            throw new ModelFolderException($"{path} is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ModelFolderException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string? TokenText(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : String(value, "content")
            : null;

    private static int? Int(JsonElement element, string name, string path) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : throw new ModelFolderException($"{path}: '{name}' must be an integer.")
            : null;

    private static float? Float(JsonElement element, string name, string path) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Number ? value.GetSingle() : throw new ModelFolderException($"{path}: '{name}' must be a number.")
            : null;
}
