using ClipService.Classification;
using ClipService.Errors;
using ClipService.Inference;
using ClipService.Models;
using ClipService.Requests;
using ClipService.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;
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
            .WithDescription("multipart/form-data with a file field `image` (and optionally `model`). Returns the L2-normalised image embedding.")
            .Accepts<EmbedImageForm>("multipart/form-data")
            .Produces<EmbedImageResponse>()
            .ProducesClipProblems()
            .DisableAntiforgery();
        group.MapPost("/text", EmbedText)
            .WithName("EmbedText")
            .WithSummary("CLIP embeddings of texts")
            .WithDescription("JSON `{ \"texts\": [...], \"model\"?: \"...\" }`. Texts are tokenised exactly as given (no template); returns one L2-normalised embedding per text, in order.")
            .Accepts<EmbedTextRequest>("application/json")
            .Produces<EmbedTextResponse>()
            .ProducesClipProblems(uploads: false);
        return app;
    }

    internal static async Task<Ok<EmbedImageResponse>> EmbedImage(HttpRequest request, ModelRegistry models, IClipInference inference,
        CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
            throw new UnsupportedMediaTypeException($"Send multipart/form-data with a file field 'image'; got '{request.ContentType ?? "no content type"}'.");
        var form = await request.ReadFormAsync(cancellationToken);
        var file = form.Files.GetFile("image") ?? throw new BadRequestException("The multipart field 'image' (the image file) is required.");
        var model = models.Get(form["model"]);
        var image = await ClassifyRequestReader.ReadFileAsync(file, cancellationToken);
        var embedding = await inference.EmbedImageAsync(model, image, cancellationToken);
        return TypedResults.Ok(new EmbedImageResponse(model.Name, embedding));
    }

    internal static async Task<Ok<EmbedTextResponse>> EmbedText(HttpRequest request, ModelRegistry models, IClipInference inference,
        IOptions<RequestLimitsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
            throw new UnsupportedMediaTypeException($"Send application/json {{\"texts\": [...]}}; got '{request.ContentType ?? "no content type"}'.");
        EmbedTextRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<EmbedTextRequest>(json.Value.SerializerOptions, cancellationToken);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new BadRequestException($"The JSON body is invalid: {e.Message}");
        }

        var texts = body?.Texts ?? throw new BadRequestException("'texts' is required: a list of strings.");
        if (texts.Count == 0 || texts.Count > options.Value.MaxTexts)
            throw new BadRequestException($"'texts' must hold 1 to {options.Value.MaxTexts} strings; got {texts.Count}.");
        if (texts.Any(t => t is null || t.Length > options.Value.MaxLabelLength))
            throw new BadRequestException($"Every text must be a string of at most {options.Value.MaxLabelLength} characters.");
        var model = models.Get(body.Model);
        var flat = await inference.EmbedTextsAsync(model, texts, cancellationToken);
        var size = model.EmbeddingSize;
        var rows = Enumerable.Range(0, texts.Count).Select(i => (IReadOnlyList<float>)flat.AsSpan(i * size, size).ToArray()).ToList();
        return TypedResults.Ok(new EmbedTextResponse(model.Name, rows));
    }
}
