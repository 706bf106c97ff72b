using System.Text.Json;
using ClipService.Core.Imaging;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Models;

public enum ModelLayout
{
    /// <summary>onnx/text_model.onnx + onnx/vision_model.onnx with tokenizer and config files (transformers.js / Xenova).</summary>
    HuggingFace,

    /// <summary>textual.onnx + visual.onnx (clip-as-service); OpenAI's vocabulary and preprocessing apply.</summary>
    ClipAsService,
}

/// <summary>Which of the encoder files to load: the plain export, or its _fp16 / _quantized sibling.</summary>
public enum ModelPrecision
{
    Default,
    Fp16,
    Quantized,
}

/// <summary>
/// A CLIP model folder on disk: which files it has and what its configuration files say. Opening checks that
/// the folder is complete and its files parse; <see cref="ClipModel"/> checks them against the ONNX graphs.
/// </summary>
public sealed class ClipModelFolder
{
    public const float DefaultLogitScale = 100f;

    private ClipModelFolder(string directory, ModelLayout layout, string textModelPath, string visionModelPath)
    {
        Directory = directory;
        Name = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(directory));
        Layout = layout;
        TextModelPath = textModelPath;
        VisionModelPath = visionModelPath;
    }

    public string Name { get; }
    public string Directory { get; }
    public ModelLayout Layout { get; }
    public string TextModelPath { get; }
    public string VisionModelPath { get; }

    /// <summary>From preprocessor_config.json; null for a layout without one (OpenAI's constants then apply).</summary>
    public PreprocessorSettings? Preprocessor { get; private init; }

    /// <summary>The trained logit scale the folder records (config.json "trained_logit_scale"), if any.</summary>
    public float? TrainedLogitScale { get; private init; }

    /// <summary>text_config.max_position_embeddings from config.json, if given.</summary>
    public int? ContextLength { get; private init; }

    /// <summary>projection_dim from config.json, if given.</summary>
    public int? ProjectionDim { get; private init; }

    /// <summary>The id padding fills a batch with: the pad token of the folder's tokenizer config.</summary>
    public string? PadToken { get; private init; }

    public string TokenizerDescription => TokenizerFiles() is { } files ? string.Join(" + ", files.Select(System.IO.Path.GetFileName)) : "built-in OpenAI vocabulary";

    /// <summary>True when <paramref name="directory"/> holds the encoder files of a known layout.</summary>
    public static bool LooksLikeModel(string directory) =>
        File.Exists(System.IO.Path.Combine(directory, "onnx", "text_model.onnx"))
        || File.Exists(System.IO.Path.Combine(directory, "onnx", "vision_model.onnx"))
        || File.Exists(System.IO.Path.Combine(directory, "textual.onnx"))
        || File.Exists(System.IO.Path.Combine(directory, "visual.onnx"));

    public static ClipModelFolder Open(string directory, ModelPrecision precision = ModelPrecision.Default)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new ModelFolderException($"Model folder '{directory}' does not exist.");

        var suffix = precision switch
        {
            ModelPrecision.Fp16 => "_fp16",
            ModelPrecision.Quantized => "_quantized",
            _ => "",
        };
        var text = System.IO.Path.Combine(directory, "onnx", $"text_model{suffix}.onnx");
        var vision = System.IO.Path.Combine(directory, "onnx", $"vision_model{suffix}.onnx");
        var textual = System.IO.Path.Combine(directory, "textual.onnx");
        var visual = System.IO.Path.Combine(directory, "visual.onnx");

        if (File.Exists(text) || File.Exists(vision))
            return OpenHuggingFace(directory, RequireFile(text, "the text encoder"), RequireFile(vision, "the image encoder"));
        if (File.Exists(textual) || File.Exists(visual))
        {
            if (precision != ModelPrecision.Default)
                throw new ModelFolderException($"Model folder '{directory}' has the clip-as-service layout, which has no {precision} variant.");
            return new ClipModelFolder(directory, ModelLayout.ClipAsService, RequireFile(textual, "the text encoder"), RequireFile(visual, "the image encoder"));
        }

        var present = System.IO.Directory.EnumerateFileSystemEntries(directory).Select(System.IO.Path.GetFileName).Take(12);
        throw new ModelFolderException(
            $"Model folder '{directory}' has no CLIP encoders: expected onnx/text_model{suffix}.onnx and onnx/vision_model{suffix}.onnx " +
            $"(Hugging Face / transformers.js layout) or textual.onnx and visual.onnx (clip-as-service layout); it holds: {string.Join(", ", present)}.");
    }

    /// <summary>The tokenizer's vocabulary: vocab.json + merges.txt, else tokenizer.json, else OpenAI's built in.</summary>
    public BpeVocabulary LoadVocabulary()
    {
        var files = TokenizerFiles();
        return files switch
        {
            [var vocab, var merges] => BpeVocabulary.FromVocabAndMerges(vocab, merges),
            [var tokenizerJson] => BpeVocabulary.FromTokenizerJson(tokenizerJson),
            _ => BpeVocabulary.OpenAiDefault(),
        };
    }

    private string[]? TokenizerFiles()
    {
        var vocab = System.IO.Path.Combine(Directory, "vocab.json");
        var merges = System.IO.Path.Combine(Directory, "merges.txt");
        var tokenizerJson = System.IO.Path.Combine(Directory, "tokenizer.json");
        if (File.Exists(vocab) && File.Exists(merges))
            return [vocab, merges];
        if (File.Exists(tokenizerJson))
            return [tokenizerJson];
        return null;
    }

    private static ClipModelFolder OpenHuggingFace(string directory, string text, string vision)
    {
        var vocab = System.IO.Path.Combine(directory, "vocab.json");
        var merges = System.IO.Path.Combine(directory, "merges.txt");
        var tokenizerJson = System.IO.Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(tokenizerJson) && File.Exists(vocab) != File.Exists(merges))
        {
            var missing = File.Exists(vocab) ? "merges.txt" : "vocab.json";
            throw new ModelFolderException($"Model folder '{directory}' has {(File.Exists(vocab) ? "vocab.json" : "merges.txt")} but not {missing}; the tokenizer needs both (or tokenizer.json).");
        }

        if (!File.Exists(tokenizerJson) && !File.Exists(vocab))
            throw new ModelFolderException($"Model folder '{directory}' has no tokenizer: expected tokenizer.json, or vocab.json and merges.txt.");

        var preprocessorPath = RequireFile(System.IO.Path.Combine(directory, "preprocessor_config.json"), "the image preprocessing parameters");
        var configPath = RequireFile(System.IO.Path.Combine(directory, "config.json"), "the model configuration");
        var (contextLength, projectionDim, trainedScale) = ReadConfig(configPath);
        return new ClipModelFolder(directory, ModelLayout.HuggingFace, text, vision)
        {
            Preprocessor = PreprocessorSettings.Load(preprocessorPath),
            ContextLength = contextLength,
            ProjectionDim = projectionDim,
            TrainedLogitScale = trainedScale,
            PadToken = ReadPadToken(directory),
        };
    }

    private static (int? ContextLength, int? ProjectionDim, float? TrainedScale) ReadConfig(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            var root = doc.RootElement;
            int? context = root.TryGetProperty("text_config", out var textConfig) && textConfig.TryGetProperty("max_position_embeddings", out var positions)
                ? positions.GetInt32()
                : null;
            int? projection = root.TryGetProperty("projection_dim", out var dim) ? dim.GetInt32() : null;
            float? scale = root.TryGetProperty("trained_logit_scale", out var trained) ? trained.GetSingle() : null;
            if (scale is <= 0 or > 1000)
                throw new ModelFolderException($"{path}: trained_logit_scale must be in (0, 1000], the linear scale (not its logarithm).");
            return (context, projection, scale);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ModelFolderException($"{path} is not a CLIP config.json: {e.Message}", e);
        }
    }

    private static string? ReadPadToken(string directory)
    {
        foreach (var name in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            var path = System.IO.Path.Combine(directory, name);
            if (!File.Exists(path))
                continue;
            try
            {
                using var stream = File.OpenRead(path);
                using var doc = JsonDocument.Parse(stream);
                if (doc.RootElement.TryGetProperty("pad_token", out var pad))
                {
                    return pad.ValueKind == JsonValueKind.String ? pad.GetString()
                        : pad.TryGetProperty("content", out var content) ? content.GetString() : null;
                }
            }
            catch (JsonException e)
            {
                throw new ModelFolderException($"{path} is not valid JSON: {e.Message}", e);
            }
        }

        return null;
    }

    private static string RequireFile(string path, string what) =>
        File.Exists(path) ? path : throw new ModelFolderException($"Model folder is missing {path} ({what}).");
}
