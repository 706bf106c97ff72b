using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClipService.OpenAi;

/// <summary>POST /v1/embeddings, as OpenAI's API takes it (plus <see cref="Modality"/>).</summary>
public sealed record OpenAiEmbeddingsRequest
{
    /// <example>clip-shapes</example>
    [Description("Required: a model name from GET /v1/models.")]
    public string? Model { get; init; }

    /// <example>["a photo of a cat", "a photo of a dog"]</example>
    [Description("A string or an array of strings. With \"modality\": \"image\", each is an image as a data:image/...;base64, URI " +
        "(or an http(s) URL when Clip:ImageUrls:Enabled). Token arrays are not accepted.")]
    public JsonElement Input { get; init; }

    /// <example>float</example>
    [Description("\"float\" (default): arrays of numbers; \"base64\": each embedding's little-endian float32 bytes, base64-encoded (what the official clients ask for).")]
    public string? EncodingFormat { get; init; }

    [Description("Extension: \"text\" (default) or \"image\".")]
    public string? Modality { get; init; }

    [Description("Optional; must equal the model's embedding size if given (CLIP embeddings are not shortened).")]
    public int? Dimensions { get; init; }

    [Description("Accepted and ignored.")]
    public string? User { get; init; }
}

/// <summary>One embedding in OpenAI's shape.</summary>
/// <param name="Embedding">An array of numbers, or a base64 string of little-endian float32 values when encoding_format is base64.</param>
public sealed record OpenAiEmbedding([property: JsonPropertyName("object")] string Kind, int Index, object Embedding);

/// <summary>Token counts: CLIP tokenizer tokens the text encoder read (start and end tokens included); 0 for images.</summary>
public sealed record OpenAiUsage(int PromptTokens, int TotalTokens);

/// <summary>The response of POST /v1/embeddings, exactly OpenAI's shape.</summary>
public sealed record OpenAiEmbeddingList([property: JsonPropertyName("object")] string Kind, IReadOnlyList<OpenAiEmbedding> Data, string Model, OpenAiUsage Usage)
    : Diagnostics.IRequestLogFields
{
    int? Diagnostics.IRequestLogFields.LabelCount => Data.Count;
}

/// <summary>A model in OpenAI's shape.</summary>
/// <param name="Created">Unix seconds: when the model folder was last written.</param>
public sealed record OpenAiModel(string Id, [property: JsonPropertyName("object")] string Kind, long Created, string OwnedBy);

/// <summary>GET /v1/models.</summary>
public sealed record OpenAiModelList([property: JsonPropertyName("object")] string Kind, IReadOnlyList<OpenAiModel> Data);

/// <summary>The body of every /v1 error: <c>{"error": {...}}</c>, as OpenAI answers (param and code null when not applicable).</summary>
public sealed record OpenAiErrorBody(OpenAiError Error);

/// <param name="Type">invalid_request_error, authentication_error, permission_error, rate_limit_error or server_error.</param>
/// <param name="Param">The request field at fault, when there is one.</param>
/// <param name="Code">A machine-readable reason such as model_not_found, when there is one.</param>
public sealed record OpenAiError(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);
