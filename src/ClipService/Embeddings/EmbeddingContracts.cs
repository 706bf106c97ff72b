using System.ComponentModel;

namespace ClipService.Embeddings;

/// <summary>POST /embed/image (multipart/form-data).</summary>
public sealed record EmbedImageForm
{
    [Description("The image file (JPEG, PNG, WebP, BMP or GIF).")]
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
public sealed record EmbedImageResponse(string Model, IReadOnlyList<float> Embedding) : Diagnostics.IRequestLogFields
{
    int? Diagnostics.IRequestLogFields.LabelCount => null;
}

/// <summary>L2-normalised text embeddings, in request order.</summary>
public sealed record EmbedTextResponse(string Model, IReadOnlyList<IReadOnlyList<float>> Embeddings) : Diagnostics.IRequestLogFields
{
    int? Diagnostics.IRequestLogFields.LabelCount => Embeddings.Count;
}
