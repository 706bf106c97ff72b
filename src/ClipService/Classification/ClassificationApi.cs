using System.Diagnostics;
using ClipService.Core.Scoring;
using ClipService.Inference;
using ClipService.Models;
using ClipService.Requests;
using ClipService.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ClipService.Classification;

public static class ClassificationApi
{
    public static IEndpointRouteBuilder MapClassification(this IEndpointRouteBuilder app)
    {
        app.MapPost("/classify", Classify)
            .WithName("Classify")
            .WithTags("Classification")
            .WithSummary("Zero-shot classification of one image against your labels")
            .WithDescription(
                "Upload an image (multipart/form-data: a file field `image` and one `labels` field per label; " +
                "or application/json with the image base64-encoded). Each label is put into the prompt template " +
                "(default `a photo of a {}.`), the image and prompts are embedded by CLIP, and the labels come back " +
                "ranked by softmax probability (`score`, summing to 1 over all labels) with the raw cosine `similarity`. " +
                "Errors are RFC 7807 problem details: 400 invalid fields or unreadable image, 404 unknown model, " +
                "413 body or image too large, 415 unsupported content or image type, 503 overloaded (with Retry-After).")
            .Accepts<ClassifyForm>("multipart/form-data", "application/json")
            .Produces<ClassifyResponse>()
            .ProducesClipProblems()
            .DisableAntiforgery();
        return app;
    }

    internal static async Task<Ok<ClassifyResponse>> Classify(
        HttpRequest request,
        ModelRegistry models,
        IClipInference inference,
        IOptions<RequestLimitsOptions> options,
        IOptions<JsonOptions> json,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var input = await ClassifyRequestReader.ReadAsync(request, options.Value, json.Value, cancellationToken);
        var model = models.Get(input.Model);

        var imageTask = Timed(() => inference.EmbedImageAsync(model, input.Image, cancellationToken));
        var textTask = Timed(() => inference.EmbedLabelsAsync(model, input.Labels, input.Templates, cancellationToken));
        var (image, imageMs) = await imageTask;
        var (labels, textMs) = await textTask;

        var ranked = ZeroShotScorer.Rank(image, labels, input.Labels, model.LogitScale);
        var count = Math.Min(input.TopK ?? ranked.Length, ranked.Length);
        var results = ranked.Take(count).Select(r => new LabelResult(r.Label, r.Score, r.Similarity)).ToList();
        var total = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return TypedResults.Ok(new ClassifyResponse(model.Name, results, input.Templates, model.Provider,
            new ClassifyTimings(Math.Round(imageMs, 2), Math.Round(textMs, 2), Math.Round(total, 2))));
    }

    private static async Task<(T Result, double Ms)> Timed<T>(Func<Task<T>> work)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await work();
        return (result, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
