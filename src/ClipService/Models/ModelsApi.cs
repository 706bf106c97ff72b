using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipService.Models;

/// <summary>One loaded model, as GET /models describes it.</summary>
/// <param name="Family">The model family the folder's config files name: clip, siglip, siglip2, chinese_clip or xlm_roberta_clip.</param>
/// <param name="Scoring">softmax (scores sum to 1), sigmoid (an independent probability per label) or rank (no trained
/// bias: scores are cosines).</param>
/// <param name="ScoringDescription">What a score means for this model, in a sentence.</param>
/// <param name="LogitScale">The scale applied to cosines (null for rank).</param>
/// <param name="LogitBias">The trained bias of a sigmoid-scored model (null otherwise).</param>
/// <param name="DefaultTemplate">The template a label goes into when a request gives none.</param>
/// <param name="TokenizerKind">CLIP BPE, Unigram, WordPiece or BPE.</param>
public sealed record ModelInfo(string Name, bool Default, string Family, string Scoring, string ScoringDescription, int EmbeddingSize, int ImageSize,
    int ContextLength, string Provider, string Layout, string Precision, float? LogitScale, float? LogitBias, string DefaultTemplate, string Tokenizer,
    string TokenizerKind);

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder app)
    {
        app.MapGet("/models", ListModels)
            .WithName("ListModels")
            .WithTags("Models")
            .WithSummary("The loaded models")
            .WithDescription("Each model folder under Clip:ModelsPath, by name (the folder name), with its family and score function (softmax scores sum to 1; sigmoid scores are independent per label; rank means the folder has no trained bias and scores are cosines), embedding size, image size, context length, default template, execution provider and whether it is the default. Empty until the models have loaded (see /health/ready).")
            .Produces<IReadOnlyList<ModelInfo>>();
        return app;
    }

    internal static Ok<List<ModelInfo>> ListModels(ModelRegistry registry, IOptions<ModelOptions> options) =>
        TypedResults.Ok(registry.Models
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .Select(m => new ModelInfo(m.Name, m.Name == registry.DefaultModel, m.Family.Name, m.Scoring.Name, m.Scoring.Description, m.EmbeddingSize,
                m.Image.Height, m.ContextLength, m.Provider, m.Folder.Layout.ToString(), options.Value.Precision.ToString(), m.Scoring.Scale,
                m.Scoring.Bias, m.DefaultTemplate, m.Folder.TokenizerDescription, m.Tokenizer.Kind))
            .ToList());
}
