using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Requests;

/// <summary>How large a request may be: the limit keys of the "Clip" section.</summary>
public sealed class RequestLimitsOptions
{
    public const string SectionName = "Clip";
    public const int DefaultMaxLabels = 256;
    public const int DefaultMaxLabelLength = 4096;
    public const int DefaultMaxTemplates = 32;
    public const int DefaultMaxTexts = 256;
    public const int DefaultMaxImagesPerRequest = 32;
    public const long DefaultMaxRequestBytes = 20 * 1024 * 1024;

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

    /// <summary>Largest request body accepted (uploads and JSON), in bytes; larger ones get 413. Kestrel, the form
    /// reader and the Content-Length check all take it from here.</summary>
    [Range(1024, 1L << 32)]
    public long MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;
}

[OptionsValidator]
public sealed partial class RequestLimitsOptionsValidator : IValidateOptions<RequestLimitsOptions>;
