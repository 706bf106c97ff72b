using System.Diagnostics;
using ClipService.Admission;
using ClipService.Inference;
using ClipService.Models;
using ClipService.OpenApi;
using ClipService.Requests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ClipService.Classification;

public static class ClassificationApi
{
    private const string LabelOptions =
        "Labels: one `labels` field per label (or a JSON list), or `label_set` naming a set from GET /label-sets (e.g. `imagenet`: " +
        "1000 classes ensembled over 80 templates, precomputed). Each label is put into the prompt template (default `a photo of a {}.`; " +
        "`template`, or `templates` to ensemble several or `imagenet7` / `imagenet80`), and labels come back ranked by softmax probability " +
        "(`score`, summing to 1 over all labels) with the raw cosine `similarity`. Prompts longer than the model's context are truncated " +
        "as CLIP's reference does (end token kept) and counted in `truncated`. Errors are RFC 7807 problem details: 400 invalid fields " +
        "or unreadable image, 404 unknown model, 413 body or image too large, 415 unsupported content or image type, 503 overloaded (with Retry-After).";

    public static IEndpointRouteBuilder MapClassification(this IEndpointRouteBuilder app)
    {
        // Full paths on a prefix-less group: a "" route under a "/classify" group would be reported (http.route, metrics) as "/classify/".
        var group = app.MapGroup("").WithTags("Classification").DisableAntiforgery();
        group.MapPost("/classify", Classify)
            .WithName("Classify")
            .WithSummary("Zero-shot classification of one image against your labels or a label set")
            .WithDescription("multipart/form-data with a file field `image`, or application/json with `image` base64-encoded or a data: URI. " +
                "Exactly one image: several `image` parts get 400 (use /classify/batch). " + LabelOptions)
            .AcceptsFormOrJson<ClassifyForm, ClassifyJsonRequest>()
            .Produces<ClassifyResponse>()
            .ProducesClipProblems()
            .RequireAdmission();
        group.MapPost("/classify/batch", ClassifyBatch)
            .WithName("ClassifyBatch")
            .WithSummary("Zero-shot classification of several images against the same labels")
            .WithDescription("multipart/form-data with one file part `images` per image, or application/json `{\"images\": [base64 or data: URI, ...], ...}`; " +
                "at most Clip:MaxImagesPerRequest images (default 32), encoded together by the batcher. `results` are in input order, each what " +
                "/classify answers for that image. " + LabelOptions)
            .AcceptsFormOrJson<ClassifyBatchForm, ClassifyBatchJsonRequest>()
            .Produces<ClassifyBatchResponse>()
            .ProducesClipProblems()
            .RequireAdmission();
        return app;
    }

    internal static async Task<Ok<ClassifyResponse>> Classify(HttpRequest request, ZeroShotLabels labels, IClipInference inference, ImageInputs images,
        IOptions<RequestLimitsOptions> options, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var input = await ClassifyRequestReader.ReadAsync(request, batch: false, images, options.Value, json.Value, cancellationToken);
        var (query, embeddings, imageMs) = await RunAsync(request.HttpContext, input, labels, inference, options.Value, cancellationToken);
        return TypedResults.Ok(new ClassifyResponse(query.Model.Name, query.Model.Scoring.Name, ZeroShotLabels.Rank(query, embeddings[0]), query.Templates, query.LabelSet,
            query.Embeddings.Truncated, query.Model.Provider, Timings(imageMs, query.TextMs, started)));
    }

    internal static async Task<Ok<ClassifyBatchResponse>> ClassifyBatch(HttpRequest request, ZeroShotLabels labels, IClipInference inference, ImageInputs images,
        IOptions<RequestLimitsOptions> options, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var input = await ClassifyRequestReader.ReadAsync(request, batch: true, images, options.Value, json.Value, cancellationToken);
        var (query, embeddings, imageMs) = await RunAsync(request.HttpContext, input, labels, inference, options.Value, cancellationToken);
        var results = embeddings.Select(e => new ClassifyResult(ZeroShotLabels.Rank(query, e))).ToList();
        return TypedResults.Ok(new ClassifyBatchResponse(query.Model.Name, query.Model.Scoring.Name, results, query.Templates, query.LabelSet,
            query.Embeddings.Truncated, query.Model.Provider, Timings(imageMs, query.TextMs, started)));
    }

    // The images are encoded concurrently (the batcher puts them in one encoder call) while the labels are embedded.
    private static async Task<(ZeroShotQuery Query, float[][] Images, double ImageMs)> RunAsync(HttpContext context, ClassifyInput input,
        ZeroShotLabels labels, IClipInference inference, RequestLimitsOptions options, CancellationToken cancellationToken)
    {
        var model = labels.Model(input.Choice);
        var queryTask = labels.ResolveAsync(input.Choice, model, options, cancellationToken);
        if (queryTask.IsFaulted)
            await queryTask; // invalid labels or templates: refuse before encoding any image
        var started = Stopwatch.GetTimestamp();
        var embeddings = await inference.EmbedImagesAsync(model, input.Images, "images", cancellationToken);
        var imageMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var query = await queryTask;
        return (query, embeddings, imageMs);
    }

    private static ClassifyTimings Timings(double imageMs, double textMs, long started) =>
        new(Math.Round(imageMs, 2), Math.Round(textMs, 2), Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 2));
}
