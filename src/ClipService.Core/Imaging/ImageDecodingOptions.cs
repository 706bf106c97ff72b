using System.ComponentModel.DataAnnotations;
using ClipService.Core.Imaging.TurboJpeg;

namespace ClipService.Core.Imaging;

/// <summary>Limits on what an uploaded image may cost to decode, and how JPEGs are decoded.</summary>
public sealed class ImageDecodingOptions : IValidatableObject
{
    public const int DefaultMaxPixels = 50_000_000;
    public const int DefaultAllocationLimitMegabytes = 1024;
    public const bool DefaultFastJpegScaling = false;
    public const int DefaultMaxConcurrentDecodes = 0;

    /// <summary>Largest width × height accepted (checked from the header, before decoding).</summary>
    [Range(1, 1_000_000_000)]
    public int MaxPixels { get; set; } = DefaultMaxPixels;

    /// <summary>Largest pixel buffer the decoder may allocate, in MB.</summary>
    [Range(1, 65_536)]
    public int AllocationLimitMegabytes { get; set; } = DefaultAllocationLimitMegabytes;

    /// <summary>Decode large JPEGs at 1/2, 1/4 or 1/8 scale in the DCT while the result keeps at least twice the
    /// model's input size, then resample as usual: several times faster on photos, at a small cost in exactness
    /// (off: JPEGs are decoded at full size, as PIL does).</summary>
    public bool FastJpegScaling { get; set; } = DefaultFastJpegScaling;

    /// <summary>Images decoded and preprocessed at once across requests (each holds its full-size pixels while it
    /// is decoded); 0: one per core.</summary>
    [Range(0, 1024)]
    public int MaxConcurrentDecodes { get; set; } = DefaultMaxConcurrentDecodes;

    /// <summary>Which libjpeg-turbo decodes JPEG pixels: Auto (the system's, built with SIMD, when libturbojpeg.so.0
    /// loads, else Skia's), TurboJpeg (the system's; start fails without it) or Skia (its bundled copy, without
    /// SIMD). The same bytes on every JPEG of the reference set; a file libjpeg warns about is left to Skia.</summary>
    [EnumDataType(typeof(JpegDecoderChoice))]
    public JpegDecoderChoice JpegDecoder { get; set; } = JpegDecoderChoice.Auto;

    /// <summary>True when JPEG pixels come from the system's libturbojpeg.</summary>
    public bool UsesTurboJpeg => JpegDecoder != JpegDecoderChoice.Skia && TurboJpegDecoder.IsAvailable;

    /// <summary>The library that decodes JPEG pixels, for the log.</summary>
    public string JpegLibrary => UsesTurboJpeg ? "the system's libjpeg-turbo (libturbojpeg.so.0, SIMD)" : "Skia's bundled libjpeg-turbo (no SIMD)";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (JpegDecoder == JpegDecoderChoice.TurboJpeg && TurboJpegDecoder.UnavailableReason is { } reason)
            yield return new ValidationResult($"Clip:ImageDecoding:JpegDecoder is TurboJpeg, but {reason}; set it to Auto or Skia.");
    }

    /// <summary><see cref="MaxConcurrentDecodes"/> with 0 resolved to the core count.</summary>
    public int ConcurrentDecodes => MaxConcurrentDecodes > 0 ? MaxConcurrentDecodes : Environment.ProcessorCount;
}

/// <summary>See <see cref="ImageDecodingOptions.JpegDecoder"/>.</summary>
public enum JpegDecoderChoice
{
    Auto,
    TurboJpeg,
    Skia,
}
