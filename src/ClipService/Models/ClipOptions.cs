using System.ComponentModel.DataAnnotations;
using ClipService.Core.Encoders;
using ClipService.Core.Imaging;
using ClipService.Core.Models;

namespace ClipService.Models;

/// <summary>The "Clip" configuration section (environment: Clip__Name).</summary>
public sealed class ClipOptions
{
    public const string SectionName = "Clip";
    public const string DefaultModelsPath = "models";
    public const int DefaultMaxLabels = 256;
    public const int DefaultMaxLabelLength = 4096;
    public const int DefaultMaxTemplates = 32;
    public const int DefaultMaxTexts = 256;
    public const int DefaultMaxImagesPerRequest = 32;
    public const long DefaultMaxRequestBytes = 20 * 1024 * 1024;

    /// <summary>Folder whose sub-folders are model folders (or itself one). A relative path is looked for in the
    /// working directory and the content root, then in the folders above them.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ModelsPath { get; set; } = DefaultModelsPath;

    /// <summary>Name (folder name) of the model used when a request names none; default: the only or first one.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Which encoder files to load: Default, Fp16 or Quantized.</summary>
    public ModelPrecision Precision { get; set; } = ModelPrecision.Default;

    /// <summary>Overrides every model's logit scale (else the folder's trained_logit_scale, else 100).</summary>
    [Range(0.001, 1000.0)]
    public float? LogitScale { get; set; }

    [Required]
    public ExecutionProviderOptions ExecutionProvider { get; set; } = new();

    [Required]
    public ImageDecodingOptions ImageDecoding { get; set; } = new();

    [Range(1, 10_000)]
    public int MaxLabels { get; set; } = DefaultMaxLabels;

    /// <summary>Longest label or text, in characters: a bound on tokenizing work, far above what the context holds
    /// (longer prompts are truncated to the context, end token kept, as CLIP's reference does).</summary>
    [Range(1, 1_000_000)]
    public int MaxLabelLength { get; set; } = DefaultMaxLabelLength;

    [Range(1, 1_000)]
    public int MaxTemplates { get; set; } = DefaultMaxTemplates;

    [Range(1, 10_000)]
    public int MaxTexts { get; set; } = DefaultMaxTexts;

    /// <summary>Most images in one /classify/batch or /v1/embeddings request.</summary>
    [Range(1, 1_024)]
    public int MaxImagesPerRequest { get; set; } = DefaultMaxImagesPerRequest;

    /// <summary>Largest request body accepted (uploads and JSON), in bytes; larger ones get 413.</summary>
    [Range(1024, 1L << 32)]
    public long MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;

    /// <summary>Serve Swagger UI at /swagger and the OpenAPI document at /swagger/v1/swagger.json.</summary>
    public bool EnableSwagger { get; set; } = true;
}
