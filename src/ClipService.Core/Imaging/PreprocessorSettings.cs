using System.Text.Json;
using ClipService.Core.Models;

namespace ClipService.Core.Imaging;

/// <summary>Image preprocessing parameters, as a Hugging Face <c>preprocessor_config.json</c> or open_clip's
/// <c>preprocess_cfg.json</c> gives them.</summary>
public sealed record PreprocessorSettings
{
    public static readonly float[] OpenAiMean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly float[] OpenAiStd = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>Shortest side after resizing (when <see cref="ResizeToExact"/> is false).</summary>
    public int ShortestEdge { get; init; } = 224;

    /// <summary>Set when the config gives size as height × width: resize to exactly that, aspect not kept.</summary>
    public (int Height, int Width)? ResizeToExact { get; init; }

    public bool Resize { get; init; } = true;
    public bool CenterCrop { get; init; } = true;
    public int CropHeight { get; init; } = 224;
    public int CropWidth { get; init; } = 224;
    public ResampleFilter Filter { get; init; } = ResampleFilter.Bicubic;
    public bool Rescale { get; init; } = true;
    public float RescaleFactor { get; init; } = 1f / 255f;
    public bool Normalize { get; init; } = true;
    public float[] Mean { get; init; } = OpenAiMean;
    public float[] Std { get; init; } = OpenAiStd;

    /// <summary>Height and width of the tensor the preprocessor writes.</summary>
    public (int Height, int Width) OutputSize => CenterCrop ? (CropHeight, CropWidth)
        : ResizeToExact ?? throw new InvalidOperationException("Without a centre crop the output size depends on the image.");

    /// <summary>OpenAI's preprocessing for a square input of <paramref name="size"/> pixels.</summary>
    public static PreprocessorSettings OpenAi(int size) =>
        new() { ShortestEdge = size, CropHeight = size, CropWidth = size };

    // Hugging Face's processor classes whose do_center_crop defaults to true; every other class (SigLIP's among
    // them) has no crop unless its config asks for one.
    private static readonly HashSet<string> s_centerCroppingProcessors = new(StringComparer.Ordinal)
    {
        "CLIPImageProcessor", "CLIPImageProcessorFast", "CLIPFeatureExtractor",
        "ChineseCLIPImageProcessor", "ChineseCLIPImageProcessorFast", "ChineseCLIPFeatureExtractor",
    };

    /// <param name="centerCropWhenUnsaid">Whether to crop when the config has no <c>do_center_crop</c> and names no
    /// processor class (whose default would decide): the model family's default.</param>
    public static PreprocessorSettings Load(string path, bool centerCropWhenUnsaid = true) =>
        WithDocument(path, root => Parse(root, path, centerCropWhenUnsaid));

    /// <summary>open_clip's <c>preprocess_cfg.json</c>: size, mean, std, interpolation and resize_mode
    /// ("shortest": shortest side to size, then a centre crop; "squash": resized to size × size).</summary>
    public static PreprocessorSettings LoadOpenClip(string path) => WithDocument(path, root =>
    {
        if (!root.TryGetProperty("size", out var sizeValue))
            throw new ModelFolderException($"{path}: no 'size'.");
        var size = sizeValue.ValueKind == JsonValueKind.Array
            ? sizeValue.EnumerateArray().Select(v => v.GetInt32()).Distinct().ToArray() is [var square] ? square
                : throw new ModelFolderException($"{path}: 'size' must be square.")
            : sizeValue.GetInt32();
        if (size <= 0)
            throw new ModelFolderException($"{path}: 'size' must be positive.");
        var filter = (root.TryGetProperty("interpolation", out var interpolation) ? interpolation.GetString() : "bicubic") switch
        {
            "bicubic" => ResampleFilter.Bicubic,
            "bilinear" => ResampleFilter.Bilinear,
            var other => throw new ModelFolderException($"{path}: interpolation '{other}' is not supported; ClipService implements PIL's bilinear and bicubic."),
        };
        var settings = new PreprocessorSettings
        {
            Filter = filter,
            Mean = Triple(root, "mean", path) ?? OpenAiMean,
            Std = Triple(root, "std", path) ?? OpenAiStd,
        };
        settings = (root.TryGetProperty("resize_mode", out var mode) ? mode.GetString() : "shortest") switch
        {
            "shortest" => settings with { ShortestEdge = size, CropHeight = size, CropWidth = size, CenterCrop = true },
            "squash" => settings with { ResizeToExact = (size, size), CropHeight = size, CropWidth = size, CenterCrop = false },
            var other => throw new ModelFolderException($"{path}: resize_mode '{other}' is not supported (shortest or squash)."),
        };
        return settings.Std.Any(s => s <= 0) ? throw new ModelFolderException($"{path}: std must be positive.") : settings;
    });

    private static PreprocessorSettings WithDocument(string path, Func<JsonElement, PreprocessorSettings> parse)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            return parse(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new ModelFolderException($"{path} is not valid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new ModelFolderException($"{path}: a value has the wrong type ({e.Message}).", e);
        }
    }

    private static PreprocessorSettings Parse(JsonElement root, string path, bool centerCropWhenUnsaid)
    {
        var settings = new PreprocessorSettings();
        if (root.TryGetProperty("size", out var size))
        {
            if (size.ValueKind == JsonValueKind.Number)
                settings = settings with { ShortestEdge = size.GetInt32() };
            else if (size.TryGetProperty("shortest_edge", out var shortest))
                settings = settings with { ShortestEdge = shortest.GetInt32() };
            else if (size.TryGetProperty("height", out var h) && size.TryGetProperty("width", out var w))
                settings = settings with { ResizeToExact = (h.GetInt32(), w.GetInt32()) };
            else
                throw new ModelFolderException($"{path}: 'size' must be a number, {{\"shortest_edge\"}} or {{\"height\", \"width\"}}.");
        }

        if (root.TryGetProperty("crop_size", out var crop))
        {
            settings = crop.ValueKind == JsonValueKind.Number
                ? settings with { CropHeight = crop.GetInt32(), CropWidth = crop.GetInt32() }
                : settings with { CropHeight = crop.GetProperty("height").GetInt32(), CropWidth = crop.GetProperty("width").GetInt32() };
        }
        else
        {
            var (cropHeight, cropWidth) = settings.ResizeToExact ?? (settings.ShortestEdge, settings.ShortestEdge);
            settings = settings with { CropHeight = cropHeight, CropWidth = cropWidth };
        }

        if (root.TryGetProperty("resample", out var resample))
        {
            settings = settings with
            {
                Filter = resample.GetInt32() switch
                {
                    2 => ResampleFilter.Bilinear,
                    3 => ResampleFilter.Bicubic,
                    var other => throw new ModelFolderException(
                        $"{path}: resample {other} is not supported; ClipService implements PIL's bilinear (2) and bicubic (3)."),
                },
            };
        }

        settings = settings with
        {
            Resize = Flag(root, "do_resize", true),
            CenterCrop = Flag(root, "do_center_crop", ProcessorClass(root) is { } type ? s_centerCroppingProcessors.Contains(type) : centerCropWhenUnsaid),
            Rescale = Flag(root, "do_rescale", true),
            Normalize = Flag(root, "do_normalize", true),
            RescaleFactor = root.TryGetProperty("rescale_factor", out var factor) ? factor.GetSingle() : settings.RescaleFactor,
            Mean = Triple(root, "image_mean", path) ?? settings.Mean,
            Std = Triple(root, "image_std", path) ?? settings.Std,
        };

        if (settings.ShortestEdge <= 0 || settings.CropHeight <= 0 || settings.CropWidth <= 0)
            throw new ModelFolderException($"{path}: sizes must be positive.");
        if (settings.Std.Any(s => s <= 0))
            throw new ModelFolderException($"{path}: image_std must be positive.");
        if (!settings.CenterCrop && settings.ResizeToExact is null)
            throw new ModelFolderException($"{path}: without a centre crop, 'size' must give height and width so every image has the model's shape.");
        return settings;
    }

    private static string? ProcessorClass(JsonElement root) =>
        (root.TryGetProperty("image_processor_type", out var type) || root.TryGetProperty("feature_extractor_type", out type))
        && type.ValueKind == JsonValueKind.String
            ? type.GetString()
            : null;

    private static bool Flag(JsonElement root, string name, bool fallback) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : fallback;

    private static float[]? Triple(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value))
            return null;
        var numbers = value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Select(v => v.GetSingle()).ToArray()
            : [value.GetSingle(), value.GetSingle(), value.GetSingle()];
        return numbers.Length == 3 ? numbers : throw new ModelFolderException($"{path}: '{name}' must have three values (R, G, B).");
    }
}
