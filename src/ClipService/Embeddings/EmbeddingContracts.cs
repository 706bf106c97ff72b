using System.ComponentModel;
using ClipService.Core.Imaging;

namespace ClipService.Embeddings;

/// <summary>POST /embed/image (multipart/form-data).</summary>
public sealed record EmbedImageForm
{
    [Description($"The image file ({ClipImageDecoder.SupportedFormatNames}).")]
    public required IFormFile Image { get; init; }

    [Description("Model name (see GET /models).")]
    public string? Model { get; init; }
}

/// <summary>POST /embed/text.</summary>
public sealed record EmbedTextRequest
{
    [Description("Texts to embed, used exactly as given (no prompt template).")]
    public IReadOnlyList<string>? Texts { get; init; }

    [Description("Model name (see GET /models).")]
    public string? Model { get; init; }
}

/// <summary>An L2-normalised image embedding.</summary>
public sealed record EmbedImageResponse(string Model, IReadOnlyList<float> Embedding);

/// <summary>L2-normalised text embeddings, in request order.</summary>
public sealed record EmbedTextResponse(string Model, IReadOnlyList<IReadOnlyList<float>> Embeddings);
