using ClipService.Core.Models;

namespace ClipService.Core.Families;

/// <summary>The families ClipService serves, and the model types it refuses with a reason.</summary>
public static class ModelFamilies
{
    /// <summary>In order of precedence: SigLIP 2 before SigLIP, whose model_type it shares.</summary>
    public static readonly IReadOnlyList<IModelFamily> All =
    [
        new ClipFamily(),
        new Siglip2Family(),
        new SiglipFamily(),
        new ChineseClipFamily(),
        new XlmRobertaClipFamily(),
    ];

    private static readonly Dictionary<string, string> s_refused = new(StringComparer.Ordinal)
    {
        ["siglip2"] = "SigLIP 2 NaFlex (model_type siglip2) takes a variable number of patches with a pixel attention mask and spatial shapes; " +
            "ClipService serves SigLIP 2's fixed-resolution exports (model_type siglip), such as onnx-community/siglip2-base-patch16-224-ONNX",
        ["jina_clip"] = "jina_clip needs its own text tower code and task instructions, which no published ONNX export carries in its config",
    };

    /// <summary>The family that serves <paramref name="folder"/>.</summary>
    /// <exception cref="ModelFolderException">One line naming the model type and why it is not served.</exception>
    public static IModelFamily For(ClipModelFolder folder)
    {
        var config = folder.Config;
        if (config.ModelType is { } type && s_refused.TryGetValue(type, out var why))
            throw new ModelFolderException($"Model folder '{folder.Directory}': model_type '{type}' is not served: {why}.");
        return All.FirstOrDefault(f => f.Serves(folder.Layout, config))
            ?? throw new ModelFolderException(
                $"Model folder '{folder.Directory}': model_type '{config.ModelType ?? "(none)"}' with a {config.TokenizerModel ?? "missing"} tokenizer is not a family ClipService serves " +
                $"({string.Join(", ", All.Select(f => f.Name))}).");
    }
}
