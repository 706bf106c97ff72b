using ClipService.Core.Imaging;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Models;

public enum ModelLayout
{
    /// <summary>onnx/text_model.onnx + onnx/vision_model.onnx with tokenizer and config files (transformers.js / Xenova).</summary>
    HuggingFace,

    /// <summary>textual.onnx + visual.onnx (clip-as-service); OpenAI's vocabulary and preprocessing apply.</summary>
    ClipAsService,

    /// <summary>textual/model.onnx + visual/model.onnx with open_clip's config.json, textual/tokenizer.json and
    /// visual/preprocess_cfg.json (immich's exports); graphs often take a batch of exactly one.</summary>
    Immich,
}

/// <summary>Which of the encoder files to load: the plain export, or its _fp16 / _quantized sibling.</summary>
public enum ModelPrecision
{
    Default,
    Fp16,
    Quantized,
}

/// <summary>
/// A model folder on disk: which files it has and what its configuration files say. Opening checks that
/// the folder is complete and its files parse; the family (<see cref="Families.ModelFamilies"/>) reads the facts,
/// and <see cref="ClipModel"/> checks them against the ONNX graphs.
/// </summary>
public sealed class ClipModelFolder
{
    public const float DefaultLogitScale = 100f;

    private ClipModelFolder(string directory, ModelLayout layout, string textModelPath, string visionModelPath, string tokenizerDirectory)
    {
        Directory = directory;
        Name = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        Layout = layout;
        TextModelPath = textModelPath;
        VisionModelPath = visionModelPath;
        TokenizerDirectory = tokenizerDirectory;
    }

    public string Name { get; }
    public string Directory { get; }
    public ModelLayout Layout { get; }
    public string TextModelPath { get; }
    public string VisionModelPath { get; }

    /// <summary>Where the tokenizer files are: the folder itself, or textual/ in immich's layout.</summary>
    public string TokenizerDirectory { get; }

    /// <summary>What the configuration files say (empty for clip-as-service, which has none).</summary>
    public ModelConfig Config { get; private init; } = new();

    /// <summary>preprocessor_config.json (Hugging Face) or visual/preprocess_cfg.json (open_clip); null for
    /// clip-as-service, where OpenAI's constants apply.</summary>
    public string? PreprocessorConfigPath { get; private init; }

    /// <summary>The trained logit scale the folder records (config.json "trained_logit_scale"), if any.</summary>
    public float? TrainedLogitScale => Config.TrainedLogitScale;

    /// <summary>The text positions config.json gives, if any.</summary>
    public int? ContextLength => Config.TextPositions;

    public int? ProjectionDim => Config.ProjectionDim;

    public string? PadToken => Config.PadToken;

    public string? TokenizerJsonPath => File.Exists(Path.Combine(TokenizerDirectory, "tokenizer.json")) ? Path.Combine(TokenizerDirectory, "tokenizer.json") : null;

    public string TokenizerDescription => TokenizerFiles() is { } files ? string.Join(" + ", files.Select(f => Path.GetRelativePath(Directory, f))) : "built-in OpenAI vocabulary";

    /// <summary>True when <paramref name="directory"/> holds the encoder files of a known layout.</summary>
    public static bool LooksLikeModel(string directory) =>
        File.Exists(Path.Combine(directory, "onnx", "text_model.onnx"))
        || File.Exists(Path.Combine(directory, "onnx", "vision_model.onnx"))
        || File.Exists(Path.Combine(directory, "textual.onnx"))
        || File.Exists(Path.Combine(directory, "visual.onnx"))
        || File.Exists(Path.Combine(directory, "textual", "model.onnx"))
        || File.Exists(Path.Combine(directory, "visual", "model.onnx"));

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
        var text = Path.Combine(directory, "onnx", $"text_model{suffix}.onnx");
        var vision = Path.Combine(directory, "onnx", $"vision_model{suffix}.onnx");
        var textual = Path.Combine(directory, "textual.onnx");
        var visual = Path.Combine(directory, "visual.onnx");
        var immichText = Path.Combine(directory, "textual", "model.onnx");
        var immichVision = Path.Combine(directory, "visual", "model.onnx");

        if (File.Exists(text) || File.Exists(vision))
            return OpenHuggingFace(directory, RequireFile(text, "the text encoder"), RequireFile(vision, "the image encoder"));
        if (File.Exists(immichText) || File.Exists(immichVision))
            return OpenImmich(directory, precision, RequireFile(immichText, "the text encoder"), RequireFile(immichVision, "the image encoder"));
        if (File.Exists(textual) || File.Exists(visual))
        {
            RequireDefaultPrecision(directory, precision, "clip-as-service");
            return new ClipModelFolder(directory, ModelLayout.ClipAsService, RequireFile(textual, "the text encoder"), RequireFile(visual, "the image encoder"), directory);
        }

        if (File.Exists(Path.Combine(directory, "onnx", "model.onnx")))
        {
            throw new ModelFolderException(
                $"Model folder '{directory}' has only the combined onnx/model.onnx; split it once with " +
                $"'/usr/bin/python3 tools/import_model.py {directory}' (it writes onnx/text_model.onnx and onnx/vision_model.onnx).");
        }

        var present = System.IO.Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Take(12);
        throw new ModelFolderException(
            $"Model folder '{directory}' has no CLIP encoders: expected onnx/text_model{suffix}.onnx and onnx/vision_model{suffix}.onnx " +
            $"(Hugging Face / transformers.js layout), textual/model.onnx and visual/model.onnx (immich layout) or textual.onnx and visual.onnx " +
            $"(clip-as-service layout); it holds: {string.Join(", ", present)}.");
    }

    /// <summary>The CLIP BPE vocabulary: vocab.json + merges.txt, else tokenizer.json, else OpenAI's built in.</summary>
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

    /// <summary>The folder's preprocessing; <paramref name="centerCropWhenUnsaid"/> is the family's default for a
    /// config without <c>do_center_crop</c> and without a processor class that fixes it.</summary>
    public PreprocessorSettings? LoadPreprocessor(bool centerCropWhenUnsaid) => PreprocessorConfigPath switch
    {
        null => null,
        var path when Layout == ModelLayout.Immich => PreprocessorSettings.LoadOpenClip(path),
        var path => PreprocessorSettings.Load(path, centerCropWhenUnsaid),
    };

    private string[]? TokenizerFiles()
    {
        var vocab = Path.Combine(TokenizerDirectory, "vocab.json");
        var merges = Path.Combine(TokenizerDirectory, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges))
            return [vocab, merges];
        return TokenizerJsonPath is { } tokenizerJson ? [tokenizerJson] : null;
    }

    private static ClipModelFolder OpenHuggingFace(string directory, string text, string vision)
    {
        var vocab = Path.Combine(directory, "vocab.json");
        var merges = Path.Combine(directory, "merges.txt");
        var tokenizerJson = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(tokenizerJson) && File.Exists(vocab) != File.Exists(merges))
        {
            var missing = File.Exists(vocab) ? "merges.txt" : "vocab.json";
            throw new ModelFolderException($"Model folder '{directory}' has {(File.Exists(vocab) ? "vocab.json" : "merges.txt")} but not {missing}; the tokenizer needs both (or tokenizer.json).");
        }

        if (!File.Exists(tokenizerJson) && !File.Exists(vocab))
            throw new ModelFolderException($"Model folder '{directory}' has no tokenizer: expected tokenizer.json, or vocab.json and merges.txt.");

        var preprocessorPath = RequireFile(Path.Combine(directory, "preprocessor_config.json"), "the image preprocessing parameters");
        var configPath = RequireFile(Path.Combine(directory, "config.json"), "the model configuration");
        return new ClipModelFolder(directory, ModelLayout.HuggingFace, text, vision, directory)
        {
            Config = ModelConfig.Read(configPath, directory),
            PreprocessorConfigPath = preprocessorPath,
        };
    }

    private static ClipModelFolder OpenImmich(string directory, ModelPrecision precision, string text, string vision)
    {
        RequireDefaultPrecision(directory, precision, "immich");
        var tokenizerDirectory = Path.Combine(directory, "textual");
        RequireFile(Path.Combine(tokenizerDirectory, "tokenizer.json"), "the tokenizer");
        var configPath = RequireFile(Path.Combine(directory, "config.json"), "open_clip's model configuration");
        var preprocessorPath = RequireFile(Path.Combine(directory, "visual", "preprocess_cfg.json"), "the image preprocessing parameters");
        return new ClipModelFolder(directory, ModelLayout.Immich, text, vision, tokenizerDirectory)
        {
            Config = ModelConfig.Read(configPath, tokenizerDirectory),
            PreprocessorConfigPath = preprocessorPath,
        };
    }

    private static void RequireDefaultPrecision(string directory, ModelPrecision precision, string layout)
    {
        if (precision != ModelPrecision.Default)
            throw new ModelFolderException($"Model folder '{directory}' has the {layout} layout, which has no {precision} variant.");
    }

    private static string RequireFile(string path, string what) =>
        File.Exists(path) ? path : throw new ModelFolderException($"Model folder is missing {path} ({what}).");
}
