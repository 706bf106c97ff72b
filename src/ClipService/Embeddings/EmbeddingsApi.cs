using ClipService.Admission;
using ClipService.Errors;
using ClipService.Inference;
using ClipService.Models;
using ClipService.OpenApi;
using ClipService.Requests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ClipService.Embeddings;

public static class EmbeddingsApi
{
    public static IEndpointRouteBuilder MapEmbeddings(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/embed").WithTags("Embeddings");
        group.MapPost("/image", EmbedImage)
            .WithName("EmbedImage")
            .WithSummary("CLIP embedding of one image")
            .WithDescription("multipart/form-data with a file field `image`, or application/json `{\"image\": base64 or data: URI}` (and optionally `model`). " +
                "Returns `{model, embeddings: [[...]], dimensions, truncated: 0}`: the same shape as /embed/text, with one L2-normalised row.")
            .AcceptsFormOrJson<EmbedImageForm, EmbedImageJsonRequest>()
            .Produces<EmbeddingsResponse>()
            .ProducesClipProblems()
            .RequireAdmission()
            .DisableAntiforgery();
        group.MapPost("/text", EmbedText)
            .WithName("EmbedText")
            .WithSummary("CLIP embeddings of texts")
            .WithDescription("JSON `{ \"texts\": [...], \"model\"?: \"...\" }`. Texts are tokenised exactly as given (no template); one longer than " +
                "the model's context is truncated as CLIP's reference does (end token kept) and counted in `truncated`. Returns " +
                "`{model, embeddings, dimensions, truncated}` with one L2-normalised row per text, in order.")
            .Accepts<EmbedTextRequest>("application/json")
            .Produces<EmbeddingsResponse>()
            .ProducesClipProblems(uploads: false)
            .RequireAdmission();
        return app;
    }

    internal static async Task<Ok<EmbeddingsResponse>> EmbedImage(HttpRequest request, ModelRegistry models, IClipInference inference, ImageInputs images,
        IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> image;
        string? modelName;
        if (RequestBody.KindOf(request, "multipart/form-data (file field image) or application/json {\"image\": base64}") == BodyKind.Form)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            var file = RequestBody.Files(form, "image") switch
            {
                [var one] => one,
                [] => throw new BadRequestException("The multipart field 'image' (the image file) is required."),
                var several => throw new BadRequestException($"{several.Count} 'image' parts were sent; /embed/image takes one (POST /v1/embeddings takes several)."),
            };
            image = await RequestBody.ReadFileAsync(file, cancellationToken);
            modelName = RequestBody.Text(form, "model");
        }
        else
        {
            var body = await RequestBody.ReadJsonAsync<EmbedImageJsonRequest>(request, json.Value.SerializerOptions, cancellationToken);
            image = (await images.ReadAsync([body.Image], _ => "image", request.HttpContext, cancellationToken))[0];
            modelName = body.Model;
        }

        var model = models.Get(modelName);
        var embedding = await inference.EmbedImageAsync(model, image, cancellationToken);
        return TypedResults.Ok(new EmbeddingsResponse(model.Name, [embedding], embedding.Length, 0));
    }

    internal static async Task<Ok<EmbeddingsResponse>> EmbedText(HttpRequest request, ModelRegistry models, IClipInference inference,
        IOptions<RequestLimitsOptions> options, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        RequestBody.KindOf(request, "application/json {\"texts\": [...]}", formAllowed: false);
        var body = await RequestBody.ReadJsonAsync<EmbedTextRequest>(request, json.Value.SerializerOptions, cancellationToken);
        var texts = body.Texts ?? throw new BadRequestException("'texts' is required: a list of strings.");
        TextRules.Validate(texts, "texts", options.Value);
        var model = models.Get(body.Model);
        var embeddings = await inference.EmbedTextsAsync(model, texts, cancellationToken);
        return TypedResults.Ok(new EmbeddingsResponse(model.Name, embeddings.Rows, model.EmbeddingSize, embeddings.Truncated));
    }
}
