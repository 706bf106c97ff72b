using System.ComponentModel;
using ClipService.Core.Imaging;
using ClipService.Core.Scoring;

namespace ClipService.Classification;

/// <summary>The label options /classify and /classify/batch share (JSON).</summary>
public abstract record ClassifyJsonOptions
{
    /// <example>["cat", "dog", "red circle"]</example>
    [Description("Candidate labels, e.g. [\"cat\", \"dog\"]. Each is put into the template(s). Give either labels or label_set.")]
    public IReadOnlyList<string>? Labels { get; init; }

    /// <example>imagenet</example>
    [Description("A named label set (see GET /label-sets) instead of labels, e.g. \"imagenet\"; its own templates apply unless template/templates are given.")]
    public string? LabelSet { get; init; }

    /// <example>a photo of a {}.</example>
    [Description("Prompt template with {} where the label goes. Default: the model family's (\"a photo of a {}.\" for CLIP, \"This is a photo of {}.\" for SigLIP, \"一张{}的照片。\" for Chinese-CLIP; see GET /models).")]
    public string? Template { get; init; }

    [Description("Several templates to ensemble (each label's embeddings averaged), or one named set: \"imagenet7\" or \"imagenet80\".")]
    public IReadOnlyList<string>? Templates { get; init; }

    [Description("Model name (see GET /models); default: the service's default model.")]
    public string? Model { get; init; }

    /// <example>5</example>
    [Description("Return only the best k labels (softmax scores are still over all labels).")]
    public int? TopK { get; init; }
}

/// <summary>POST /classify as JSON.</summary>
public sealed record ClassifyJsonRequest : ClassifyJsonOptions
{
    /// <example>data:image/png;base64,iVBORw0KGgo...</example>
    [Description($"The image file ({ClipImageDecoder.SupportedFormatNames}), base64-encoded or as a data: URI (or an http(s) URL when Clip:ImageUrls:Enabled).")]
    public string? Image { get; init; }
}

/// <summary>POST /classify/batch as JSON.</summary>
public sealed record ClassifyBatchJsonRequest : ClassifyJsonOptions
{
    /// <example>["data:image/png;base64,iVBORw0KGgo...", "iVBORw0KGgo..."]</example>
    [Description("The images, each base64-encoded or a data: URI (or an http(s) URL when Clip:ImageUrls:Enabled); at most Clip:MaxImagesPerRequest.")]
    public IReadOnlyList<string>? Images { get; init; }
}

/// <summary>The label options of the multipart forms (what Swagger UI's form sends).</summary>
public abstract record ClassifyFormOptions
{
    [Description("One field per label; a single value with commas is split on the commas (send labels containing commas as JSON). Or give label_set.")]
    public IReadOnlyList<string>? Labels { get; init; }

    [Description("A named label set (see GET /label-sets) instead of labels, e.g. imagenet.")]
    public string? LabelSet { get; init; }

    [Description("Prompt template with {} where the label goes. Default: the model family's (\"a photo of a {}.\" for CLIP, \"This is a photo of {}.\" for SigLIP, \"一张{}的照片。\" for Chinese-CLIP; see GET /models).")]
    public string? Template { get; init; }

    [Description("Several templates to ensemble, one field each, or one named set: imagenet7 or imagenet80.")]
    public IReadOnlyList<string>? Templates { get; init; }

    [Description("Model name (see GET /models).")]
    public string? Model { get; init; }

    [Description("Return only the best k labels.")]
    public int? TopK { get; init; }
}

/// <summary>POST /classify as multipart/form-data.</summary>
public sealed record ClassifyForm : ClassifyFormOptions
{
    [Description($"The image file ({ClipImageDecoder.SupportedFormatNames}); exactly one (several: use /classify/batch).")]
    public required IFormFile Image { get; init; }
}

/// <summary>POST /classify/batch as multipart/form-data.</summary>
public sealed record ClassifyBatchForm : ClassifyFormOptions
{
    [Description($"The image files ({ClipImageDecoder.SupportedFormatNames}), one `images` part each (at most Clip:MaxImagesPerRequest).")]
    public required IReadOnlyList<IFormFile> Images { get; init; }
}

/// <summary>Where the time went, in milliseconds.</summary>
public sealed record ClassifyTimings(double ImageMs, double TextMs, double TotalMs);

/// <summary>Labels ranked by score, best first.</summary>
/// <param name="Scoring">How the scores were made, per the model's family: "softmax" (a probability over all the labels,
/// summing to 1 before any top_k cut; CLIP, Chinese-CLIP), "sigmoid" (an independent probability per label, not
/// summing to 1; SigLIP) or "rank" (a SigLIP folder without a trained bias: the score is the cosine).</param>
/// <param name="Labels">Each label's score and raw cosine similarity, best first.</param>
/// <param name="Templates">The templates the labels were put in (ensembled when several).</param>
/// <param name="LabelSet">The label set used, if any.</param>
/// <param name="Truncated">How many labels had a prompt longer than the model's context, truncated (end token kept) as CLIP's reference does.</param>
public sealed record ClassifyResponse(string Model, string Scoring, IReadOnlyList<LabelScore> Labels, IReadOnlyList<string> Templates, string? LabelSet, int Truncated,
    string Provider, ClassifyTimings Timings) : Diagnostics.IRequestLogFields
{
    int? Diagnostics.IRequestLogFields.LabelCount => Labels.Count;
}

/// <summary>One image's ranking in a batch.</summary>
public sealed record ClassifyResult(IReadOnlyList<LabelScore> Labels);

/// <summary>Each image's labels ranked by score, in the order the images were given.</summary>
/// <param name="Scoring">softmax, sigmoid or rank, as in /classify's response.</param>
/// <param name="Results">One per image, in input order; each equals what /classify answers for that image.</param>
/// <param name="Truncated">How many labels had a prompt longer than the model's context (truncated, end token kept).</param>
public sealed record ClassifyBatchResponse(string Model, string Scoring, IReadOnlyList<ClassifyResult> Results, IReadOnlyList<string> Templates, string? LabelSet, int Truncated,
    string Provider, ClassifyTimings Timings) : Diagnostics.IRequestLogFields
{
    int? Diagnostics.IRequestLogFields.LabelCount => Results.Count > 0 ? Results[0].Labels.Count : null;
}
