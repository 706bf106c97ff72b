using System.Text.Json;
using ClipService.Core.Models;

namespace ClipService.Core.Imaging;

/// <summary>CLIP image preprocessing parameters, as a Hugging Face <c>preprocessor_config.json</c> gives them.</summary>
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

    public static PreprocessorSettings Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            return Parse(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new ModelFolderException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    private static PreprocessorSettings Parse(JsonElement root, string path)
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
        else if (size.ValueKind == JsonValueKind.Undefined || settings.ResizeToExact is null)
        {
            settings = settings with { CropHeight = settings.ShortestEdge, CropWidth = settings.ShortestEdge };
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
            CenterCrop = Flag(root, "do_center_crop", true),
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
