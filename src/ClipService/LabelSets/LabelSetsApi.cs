using Microsoft.AspNetCore.Http.HttpResults;

namespace ClipService.LabelSets;

/// <summary>One label set, as GET /label-sets describes it.</summary>
/// <param name="Name">What a request gives as <c>label_set</c>.</param>
/// <param name="LabelCount">How many labels (classes) it has.</param>
/// <param name="Templates">The templates its labels are put in; empty when the set names none, and then each model's
/// default template is used (its family's: "a photo of a {}." for CLIP, "This is a photo of {}." for SigLIP).</param>
/// <param name="Source">"built-in", or the name of the file in Clip:LabelSetsPath it was read from (never the server's path).</param>
/// <param name="Language">The labels' language ("en", "zh"), when the set says; a set in a language the default model was
/// not trained on is not embedded ahead of time.</param>
public sealed record LabelSetInfo(string Name, int LabelCount, IReadOnlyList<string> Templates, string? Description, string Source, string? Language);

public static class LabelSetsApi
{
    public static IEndpointRouteBuilder MapLabelSets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/label-sets", ListLabelSets)
            .WithName("ListLabelSets")
            .WithTags("Classification")
            .WithSummary("The named label sets a classification may use")
            .WithDescription("Built-in sets (OpenAI's zero-shot class names and templates: imagenet with its 80 templates, cifar10, cifar100, " +
                "food101, oxford-pets, flowers102, stanford-cars, dtd, eurosat; imagenet-zh, Chinese-CLIP's Chinese ImageNet) and the " +
                "NAME.json files in Clip:LabelSetsPath, re-read when they change. Give `label_set=NAME` to /classify or /classify/batch " +
                "instead of `labels`. Each set's embeddings are computed once per model and kept in Clip:LabelSets:CachePath when set; " +
                "for the default model they may be computed after start-up (Clip:PrecomputeLabelSets), except sets in a language it was not trained on.")
            .Produces<IReadOnlyList<LabelSetInfo>>();
        return app;
    }

    internal static Ok<List<LabelSetInfo>> ListLabelSets(LabelSetCatalog catalog) =>
        TypedResults.Ok(catalog.All
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .Select(s => new LabelSetInfo(s.Name, s.Labels.Count, s.Templates ?? [], s.Description, PublicSource(s), s.Language))
            .ToList());

    private static string PublicSource(LabelSet set) => set.Source == LabelSetFiles.BuiltInSource ? set.Source : Path.GetFileName(set.Source);
}
