using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Requests;

/// <summary>How large a request may be: the limit keys of the "Clip" section.</summary>
public sealed class RequestLimitsOptions
{
    public const string SectionName = "Clip";
    public const int DefaultMaxLabels = 256;
    public const int DefaultMaxLabelLength = 512;
    public const int DefaultMaxTemplates = 32;
    public const int DefaultMaxTexts = 256;
    public const long DefaultMaxRequestBytes = 20 * 1024 * 1024;

    [Range(1, 10_000)]
    public int MaxLabels { get; set; } = DefaultMaxLabels;

    [Range(1, 10_000)]
    public int MaxLabelLength { get; set; } = DefaultMaxLabelLength;

    [Range(1, 1_000)]
    public int MaxTemplates { get; set; } = DefaultMaxTemplates;

    [Range(1, 10_000)]
    public int MaxTexts { get; set; } = DefaultMaxTexts;

    /// <summary>Largest request body accepted (uploads and JSON), in bytes; larger ones get 413. Kestrel, the form
    /// reader and the Content-Length check all take it from here.</summary>
    [Range(1024, 1L << 32)]
    public long MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;
}

[OptionsValidator]
public sealed partial class RequestLimitsOptionsValidator : IValidateOptions<RequestLimitsOptions>;
