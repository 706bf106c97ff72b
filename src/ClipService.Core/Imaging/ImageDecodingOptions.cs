using System.ComponentModel.DataAnnotations;

namespace ClipService.Core.Imaging;

/// <summary>Limits on what an uploaded image may cost to decode.</summary>
public sealed class ImageDecodingOptions
{
    public const int DefaultMaxPixels = 50_000_000;
    public const int DefaultAllocationLimitMegabytes = 1024;

    /// <summary>Largest width × height accepted (checked from the header, before decoding).</summary>
    [Range(1, 1_000_000_000)]
    public int MaxPixels { get; set; } = DefaultMaxPixels;

    /// <summary>Largest single buffer the decoder may allocate, in MB.</summary>
    [Range(1, 65_536)]
    public int AllocationLimitMegabytes { get; set; } = DefaultAllocationLimitMegabytes;
}
