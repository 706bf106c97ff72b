using System.Diagnostics;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Errors;
using ClipService.Inference;
using ClipService.LabelSets;
using ClipService.Models;
using ClipService.Requests;

namespace ClipService.Classification;

/// <summary>The labels a classification ranks, their embeddings, and how they were made.</summary>
internal sealed record ZeroShotQuery(ClipModel Model, IReadOnlyList<string> Labels, IReadOnlyList<string> Templates, string? LabelSet,
    TextEmbeddings Embeddings, int? TopK, double TextMs);

/// <summary>
/// Turns a <see cref="LabelChoice"/> into label embeddings: the request's own labels through the text cache, or a
/// named label set's precomputed embeddings (its own templates) or, with the request's templates, through the cache.
/// </summary>
internal sealed class ZeroShotLabels(ModelRegistry models, IClipInference inference, LabelSetCatalog labelSets, LabelSetEmbeddings labelSetEmbeddings)
{
    /// <summary>The model the request names (or the default).</summary>
    public ClipModel Model(LabelChoice choice) => models.Get(choice.Model);

    public async Task<ZeroShotQuery> ResolveAsync(LabelChoice choice, ClipModel model, RequestLimitsOptions options, CancellationToken cancellationToken)
    {
        if (choice.TopK is < 1)
            throw new BadRequestException("'top_k' must be at least 1.");
        var templates = ResolveTemplates(choice.Template, choice.Templates, options);
        var started = Stopwatch.GetTimestamp();

        if (choice.LabelSet is { } name)
        {
            if (choice.Labels is { Count: > 0 })
                throw new BadRequestException("Give either 'labels' or 'label_set', not both.");
            if (!labelSets.TryGet(name, out var set))
                throw new BadRequestException($"No label set named '{name}'. Available: {string.Join(", ", labelSets.All.Select(s => s.Name).Order(StringComparer.Ordinal))} (GET /label-sets).");
            var embeddings = templates is null
                ? await labelSetEmbeddings.GetAsync(model, set, cancellationToken)
                : await inference.EmbedLabelsAsync(model, set.Labels, templates, cancellationToken);
            return new ZeroShotQuery(model, set.Labels, templates ?? LabelSetEmbeddings.TemplatesOf(set, model), set.Name, embeddings, choice.TopK,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var labels = LabelRules.Validate(choice.Labels ?? [], options);
        templates ??= [model.DefaultTemplate];
        var labelEmbeddings = await inference.EmbedLabelsAsync(model, labels, templates, cancellationToken);
        return new ZeroShotQuery(model, labels, templates, null, labelEmbeddings, choice.TopK, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>The labels ranked for one image, cut to top_k.</summary>
    public static LabelScore[] Rank(ZeroShotQuery query, ReadOnlySpan<float> image)
    {
        var ranked = ZeroShotScorer.Rank(image, query.Embeddings.Rows, query.Labels, query.Model.Scoring);
        return query.TopK is { } k && k < ranked.Length ? ranked[..k] : ranked;
    }

    /// <returns>The templates the request gives, or null when it gives none.</returns>
    private static List<string>? ResolveTemplates(string? template, IReadOnlyList<string> templates, RequestLimitsOptions options)
    {
        if (template is not null && templates.Count > 0)
            throw new BadRequestException("Give either 'template' or 'templates', not both.");
        // Templates are bounded like labels: every prompt is a template around a label, and tokenising is the cost.
        if ((template ?? templates.FirstOrDefault(t => t.Length > options.MaxLabelLength)) is { } longest && longest.Length > options.MaxLabelLength)
            throw new BadRequestException($"Templates may be at most {options.MaxLabelLength} characters (Clip:MaxLabelLength); one has {longest.Length}.");
        if (template is not null)
        {
            return PromptTemplates.IsValid(template) ? [template]
                : throw new BadRequestException($"'template' must contain {PromptTemplates.Placeholder} where the label goes; got '{Echo.Of(template)}'.");
        }

        if (templates.Count == 0)
            return null;
        if (templates.Count == 1 && !PromptTemplates.IsValid(templates[0]))
        {
            return PromptTemplates.Named.TryGetValue(templates[0], out var named) ? [.. named]
                : throw new BadRequestException(
                    $"'{Echo.Of(templates[0])}' is neither a template (no {PromptTemplates.Placeholder}) nor a named set ({string.Join(", ", PromptTemplates.Named.Keys)}).");
        }

        if (templates.Count > options.MaxTemplates)
            throw new BadRequestException($"At most {options.MaxTemplates} templates are accepted; got {templates.Count}.");
        var invalid = templates.FirstOrDefault(t => !PromptTemplates.IsValid(t));
        return invalid is null ? [.. templates]
            : throw new BadRequestException($"Every template must contain {PromptTemplates.Placeholder}; '{Echo.Of(invalid)}' does not.");
    }
}
