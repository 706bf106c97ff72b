using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using ClipService.Admission;
using ClipService.Core.Models;
using ClipService.Errors;
using ClipService.Inference;
using ClipService.Models;
using ClipService.Requests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ClipService.OpenAi;

/// <summary>OpenAI-compatible endpoints, so OpenAI clients and frameworks use CLIP embeddings unchanged.</summary>
public static class OpenAiApi
{
    private const string OwnedBy = "clipservice";

    public static IEndpointRouteBuilder MapOpenAi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(OpenAiErrorWriter.PathPrefix).WithTags("OpenAI-compatible");
        group.MapPost("/embeddings", CreateEmbeddings)
            .WithName("OpenAiEmbeddings")
            .WithSummary("Embeddings in OpenAI's API shape (texts, or images with \"modality\": \"image\")")
            .WithDescription("OpenAI's request `{\"model\", \"input\": string or [strings], \"encoding_format\": \"float\" | \"base64\"}` and response " +
                "`{\"object\": \"list\", \"data\": [{\"object\": \"embedding\", \"index\", \"embedding\"}], \"model\", \"usage\": {\"prompt_tokens\", \"total_tokens\"}}`. " +
                "`model` is required. Extension: `\"modality\": \"image\"` makes each input an image given as a data:image/...;base64, URI (or an http(s) URL " +
                "when Clip:ImageUrls:Enabled). Vectors equal /embed/text and /embed/image. Tokens are counted by the CLIP tokenizer (0 for images); " +
                "texts longer than the context are truncated (end token kept). Errors are OpenAI's `{\"error\": {\"message\", \"type\", \"param\", \"code\"}}` " +
                "with 400 invalid input, 404 unknown model, 413 too large, 415 wrong content type, 503 overloaded (with Retry-After).")
            .Accepts<OpenAiEmbeddingsRequest>("application/json")
            .Produces<OpenAiEmbeddingList>()
            .Produces<OpenAiErrorBody>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorBody>(StatusCodes.Status404NotFound)
            .Produces<OpenAiErrorBody>(StatusCodes.Status413PayloadTooLarge)
            .Produces<OpenAiErrorBody>(StatusCodes.Status503ServiceUnavailable)
            .RequireAdmission();
        group.MapGet("/models", ListModels)
            .WithName("OpenAiListModels")
            .WithSummary("The loaded models in OpenAI's API shape")
            .WithDescription("`{\"object\": \"list\", \"data\": [{\"id\", \"object\": \"model\", \"created\", \"owned_by\": \"clipservice\"}]}`; `id` is what `model` takes.")
            .Produces<OpenAiModelList>();
        group.MapGet("/models/{model}", GetModel)
            .WithName("OpenAiGetModel")
            .WithSummary("One loaded model in OpenAI's API shape")
            .WithDescription("404 (OpenAI's error shape) for a model that is not loaded.")
            .Produces<OpenAiModel>()
            .Produces<OpenAiErrorBody>(StatusCodes.Status404NotFound);
        return app;
    }

    internal static async Task<Ok<OpenAiEmbeddingList>> CreateEmbeddings(HttpRequest request, ModelRegistry models, IClipInference inference,
        ImageInputs images, IOptions<RequestLimitsOptions> options, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        RequestBody.KindOf(request, "application/json (OpenAI's embeddings request)", formAllowed: false);
        var body = await RequestBody.ReadJsonAsync<OpenAiEmbeddingsRequest>(request, json.Value.SerializerOptions, cancellationToken);
        if (string.IsNullOrWhiteSpace(body.Model))
            throw new OpenAiRequestException("model", "'model' is required: one of the ids GET /v1/models lists.");
        var base64 = body.EncodingFormat switch
        {
            null or "float" => false,
            "base64" => true,
            _ => throw new OpenAiRequestException("encoding_format", $"'encoding_format' must be 'float' or 'base64'; got '{Echo.Of(body.EncodingFormat)}'."),
        };
        var inputs = Inputs(body.Input);
        var model = models.Get(body.Model);
        if (body.Dimensions is { } dimensions && dimensions != model.EmbeddingSize)
            throw new OpenAiRequestException("dimensions", $"'{model.Name}' gives {model.EmbeddingSize}-dimensional embeddings; 'dimensions' cannot change that.");

        var (rows, tokens) = body.Modality switch
        {
            null or "text" => await EmbedTextsAsync(request.HttpContext, model, inputs, inference, options.Value, cancellationToken),
            "image" => (await EmbedImagesAsync(request.HttpContext, model, inputs, inference, images, options.Value, cancellationToken), 0),
            _ => throw new OpenAiRequestException("modality", $"'modality' must be 'text' or 'image'; got '{Echo.Of(body.Modality)}'."),
        };

        var data = new OpenAiEmbedding[rows.Count];
        for (var i = 0; i < data.Length; i++)
            data[i] = new OpenAiEmbedding("embedding", i, base64 ? Base64(rows[i].Span) : rows[i]);
        return TypedResults.Ok(new OpenAiEmbeddingList("list", data, model.Name, new OpenAiUsage(tokens, tokens)));
    }

    internal static Ok<OpenAiModelList> ListModels(ModelRegistry models) =>
        TypedResults.Ok(new OpenAiModelList("list", models.Models.OrderBy(m => m.Name, StringComparer.Ordinal).Select(Describe).ToList()));

    internal static Ok<OpenAiModel> GetModel(string model, ModelRegistry models) => TypedResults.Ok(Describe(models.Get(model)));

    private static OpenAiModel Describe(ClipModel model) =>
        new(model.Name, "model", new DateTimeOffset(Directory.GetLastWriteTimeUtc(model.Folder.Directory)).ToUnixTimeSeconds(), OwnedBy);

    private static List<string> Inputs(JsonElement input)
    {
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return [NonEmpty(input.GetString()!, "input")];
            case JsonValueKind.Array when input.GetArrayLength() == 0:
                throw new OpenAiRequestException("input", "'input' is an empty array: give at least one input.");
            case JsonValueKind.Array:
                var inputs = new List<string>(input.GetArrayLength());
                foreach (var item in input.EnumerateArray())
                {
                    inputs.Add(item.ValueKind == JsonValueKind.String
                        ? NonEmpty(item.GetString()!, $"input[{inputs.Count}]")
                        : throw new OpenAiRequestException("input", "'input' must be a string or an array of strings; token arrays are not accepted (CLIP has its own tokenizer)."));
                }

                return inputs;
            case JsonValueKind.Undefined or JsonValueKind.Null:
                throw new OpenAiRequestException("input", "'input' is required: a string or an array of strings.");
            default:
                throw new OpenAiRequestException("input", $"'input' must be a string or an array of strings; got a JSON {input.ValueKind.ToString().ToLowerInvariant()}.");
        }
    }

    private static string NonEmpty(string value, string field) =>
        value.Length > 0 ? value : throw new OpenAiRequestException("input", $"'{field}' is an empty string.");

    private static async Task<(IReadOnlyList<ReadOnlyMemory<float>> Rows, int Tokens)> EmbedTextsAsync(HttpContext context, ClipModel model,
        List<string> inputs, IClipInference inference, RequestLimitsOptions options, CancellationToken cancellationToken)
    {
        TextRules.Validate(inputs, "input", options);
        var texts = await inference.EmbedTextsAsync(model, inputs, cancellationToken);
        return (texts.Rows, texts.Tokens);
    }

    private static async Task<IReadOnlyList<ReadOnlyMemory<float>>> EmbedImagesAsync(HttpContext context, ClipModel model, List<string> inputs,
        IClipInference inference, ImageInputs images, RequestLimitsOptions options, CancellationToken cancellationToken)
    {
        if (inputs.Count > options.MaxImagesPerRequest)
            throw new OpenAiRequestException("input", $"At most {options.MaxImagesPerRequest} images per request (Clip:MaxImagesPerRequest); got {inputs.Count}.");
        var encoded = await images.ReadAsync(inputs, i => $"input[{i}]", context, cancellationToken);
        var embeddings = await inference.EmbedImagesAsync(model, encoded, "input", cancellationToken);
        return [.. embeddings.Select(e => (ReadOnlyMemory<float>)e)];
    }

    /// <summary>Little-endian float32 bytes, base64-encoded: what OpenAI's clients decode.</summary>
    private static string Base64(ReadOnlySpan<float> embedding)
    {
        if (BitConverter.IsLittleEndian)
            return Convert.ToBase64String(MemoryMarshal.AsBytes(embedding));
        var bytes = new byte[embedding.Length * sizeof(float)];
        for (var i = 0; i < embedding.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), embedding[i]);
        return Convert.ToBase64String(bytes);
    }
}
