using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipService.Models;

/// <summary>One loaded model, as GET /models describes it.</summary>
public sealed record ModelInfo(string Name, bool Default, int EmbeddingSize, int ImageSize, int ContextLength, string Provider,
    string Layout, string Precision, float LogitScale, string Tokenizer);

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder app)
    {
        app.MapGet("/models", ListModels)
            .WithName("ListModels")
            .WithTags("Models")
            .WithSummary("The loaded models")
            .WithDescription("Each model folder under Clip:ModelsPath, by name (the folder name), with its embedding size, image size, context length, execution provider and whether it is the default. Empty until the models have loaded (see /health/ready).")
            .Produces<IReadOnlyList<ModelInfo>>();
        return app;
    }

    internal static Ok<List<ModelInfo>> ListModels(ModelRegistry registry, IOptions<ModelOptions> options) =>
        TypedResults.Ok(registry.Models
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .Select(m => new ModelInfo(m.Name, m.Name == registry.DefaultModel, m.EmbeddingSize, m.Image.Height, m.ContextLength, m.Provider,
                m.Folder.Layout.ToString(), options.Value.Precision.ToString(), m.LogitScale, m.Folder.TokenizerDescription))
            .ToList());
}
