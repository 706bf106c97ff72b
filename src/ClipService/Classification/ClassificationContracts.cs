using System.ComponentModel;

namespace ClipService.Classification;

/// <summary>POST /classify as JSON.</summary>
public sealed record ClassifyJsonRequest
{
    /// <summary>The image file's bytes, base64 (a data: URL prefix is accepted).</summary>
    [Description("The image file (JPEG, PNG, WebP, BMP or GIF), base64-encoded; a data: URL prefix is accepted.")]
    public string? Image { get; init; }

    [Description("Candidate labels, e.g. [\"cat\", \"dog\"]. Each is put into the template(s).")]
    public IReadOnlyList<string>? Labels { get; init; }

    [Description("Prompt template with {} where the label goes. Default: \"a photo of a {}.\"")]
    public string? Template { get; init; }

    [Description("Several templates to ensemble (each label's embeddings averaged), or one named set: \"imagenet7\".")]
    public IReadOnlyList<string>? Templates { get; init; }

    [Description("Model name (see GET /models); default: the service's default model.")]
    public string? Model { get; init; }

    [Description("Return only the best k labels (scores are still a softmax over all labels).")]
    public int? TopK { get; init; }
}

/// <summary>POST /classify as multipart/form-data (what Swagger UI's form sends).</summary>
public sealed record ClassifyForm
{
    [Description("The image file (JPEG, PNG, WebP, BMP or GIF).")]
    public required IFormFile Image { get; init; }

    [Description("One field per label; a single value with commas is split on the commas (send labels containing commas as JSON).")]
    public required IReadOnlyList<string> Labels { get; init; }

    [Description("Prompt template with {} where the label goes. Default: \"a photo of a {}.\"")]
    public string? Template { get; init; }

    [Description("Several templates to ensemble, one field each, or one named set: \"imagenet7\".")]
    public IReadOnlyList<string>? Templates { get; init; }

    [Description("Model name (see GET /models).")]
    public string? Model { get; init; }

    [Description("Return only the best k labels.")]
    public int? TopK { get; init; }
}

/// <summary>One label's result.</summary>
/// <param name="Label">The label as given.</param>
/// <param name="Score">Softmax probability over all the request's labels (they sum to 1 before any top_k cut).</param>
/// <param name="Similarity">Raw cosine similarity between the image and the label's prompt embedding.</param>
public sealed record LabelResult(string Label, float Score, float Similarity);

/// <summary>Where the time went, in milliseconds.</summary>
public sealed record ClassifyTimings(double ImageMs, double TextMs, double TotalMs);

/// <summary>Labels ranked by score, best first.</summary>
public sealed record ClassifyResponse(string Model, IReadOnlyList<LabelResult> Labels, IReadOnlyList<string> Templates, string Provider, ClassifyTimings Timings) : Diagnostics.IRequestLogFields
{
    int? Diagnostics.IRequestLogFields.LabelCount => Labels.Count;
}
