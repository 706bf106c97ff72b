using ClipService.Core.Models;

namespace ClipService.Models;

/// <summary>The model folders the configuration points at, found before anything is loaded.</summary>
public sealed record ModelCatalog(string ModelsPath, IReadOnlyList<string> Folders, string DefaultModel)
{
    /// <summary>Resolves <see cref="ModelOptions.ModelsPath"/> and lists its model folders.</summary>
    /// <exception cref="ModelFolderException">Nothing usable there; the message says what was looked at.</exception>
    public static ModelCatalog Discover(ModelOptions options, string contentRoot)
    {
        var modelsPath = Resolve(options.ModelsPath, contentRoot);
        var folders = ClipModelFolder.LooksLikeModel(modelsPath)
            ? [modelsPath]
            : Directory.EnumerateDirectories(modelsPath).Where(ClipModelFolder.LooksLikeModel).Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0)
            throw new ModelFolderException($"Clip:ModelsPath '{modelsPath}' holds no model folders (a folder with onnx/text_model.onnx and onnx/vision_model.onnx, or textual.onnx and visual.onnx).");

        foreach (var folder in folders)
            ClipModelFolder.Open(folder, options.Precision);

        var names = folders.Select(Path.GetFileName).ToList();
        var defaultModel = options.DefaultModel ?? names[0]!;
        if (!names.Contains(defaultModel, StringComparer.Ordinal))
            throw new ModelFolderException($"Clip:DefaultModel '{defaultModel}' is not among the models in '{modelsPath}': {string.Join(", ", names)}.");
        return new ModelCatalog(modelsPath, folders, defaultModel);
    }

    private static string Resolve(string path, string contentRoot)
    {
        if (Path.IsPathRooted(path))
        {
            return Directory.Exists(path) ? path
                : throw new ModelFolderException($"Clip:ModelsPath '{path}' does not exist.");
        }

        // `dotnet run --project src/ClipService` runs in the project folder, two levels below the repository's
        // models/: look from the working directory and the content root, then up through their parents.
        var starts = new[] { Directory.GetCurrentDirectory(), contentRoot }.Distinct().ToList();
        foreach (var start in starts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, path);
                if (Directory.Exists(candidate))
                    return Path.GetFullPath(candidate);
            }
        }

        throw new ModelFolderException($"Clip:ModelsPath '{path}' was not found in {string.Join(" or ", starts)} or any folder above.");
    }
}
