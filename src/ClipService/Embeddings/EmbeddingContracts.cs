using System.ComponentModel;
using ClipService.Core.Imaging;

namespace ClipService.Embeddings;

/// <summary>POST /embed/image as multipart/form-data.</summary>
public sealed record EmbedImageForm
{
    [Description($"The image file ({ClipImageDecoder.SupportedFormatNames}).")]
    public required IFormFile Image { get; init; }

    [Description("Model name (see GET /models).")]
    public string? Model { get; init; }
}

/// <summary>POST /embed/image as JSON.</summary>
public sealed record EmbedImageJsonRequest
{
    /// <example>data:image/png;base64,iVBORw0KGgo...</example>
    [Description("The image file, base64-encoded or a data: URI (or an http(s) URL when Clip:ImageUrls:Enabled).")]
    public string? Image { get; init; }

    [Description("Model name (see GET /models).")]
    public string? Model { get; init; }
}

/// <summary>POST /embed/text.</summary>
public sealed record EmbedTextRequest
{
    /// <example>["a photo of a cat", "a photo of a dog"]</example>
    [Description("Texts to embed, used exactly as given (no prompt template); longer than the context: truncated as CLIP's reference does.")]
    public IReadOnlyList<string>? Texts { get; init; }

    [Description("Model name (see GET /models).")]
    public string? Model { get; init; }
}

/// <summary>L2-normalised embeddings, one per input in request order; /embed/image and /embed/text answer alike.</summary>
/// <param name="Embeddings">One row per input (one for /embed/image).</param>
/// <param name="Dimensions">Length of each row.</param>
/// <param name="Truncated">How many texts were longer than the context and truncated (end token kept); 0 for images.</param>
public sealed record EmbeddingsResponse(string Model, IReadOnlyList<ReadOnlyMemory<float>> Embeddings, int Dimensions, int Truncated)
    : Diagnostics.IRequestLogFields
{
    int? Diagnostics.IRequestLogFields.LabelCount => Embeddings.Count;
}
