using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.ImageUrls;

/// <summary>The "Clip:ImageUrls" section: whether requests may give images as http(s) URLs, and from where.</summary>
public sealed class ImageUrlOptions : IValidatableObject
{
    public const string SectionName = "Clip:ImageUrls";
    public const long DefaultMaxBytes = 20 * 1024 * 1024;
    public const int DefaultTimeoutSeconds = 10;
    public const int DefaultMaxRedirects = 3;
    public const int DefaultMaxConcurrentFetches = 16;
    public const long DefaultMaxBytesInFlight = 256 * 1024 * 1024;

    /// <summary>Off by default: fetching URLs on a client's behalf is a server-side request forgery risk.</summary>
    public bool Enabled { get; set; }

    /// <summary>Host names a URL may name (exactly, case-insensitive; "*.example.com" for its sub-domains). Required when enabled.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Allow hosts that resolve to loopback, private (RFC 1918, unique-local), link-local or other
    /// non-public addresses. Off: such addresses are refused whatever the host name, checked on the address
    /// actually connected to (so DNS tricks do not get around it).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Largest image fetched, checked against Content-Length before the body is read and while reading it.</summary>
    [Range(1, 1 << 30)]
    public long MaxBytes { get; set; } = DefaultMaxBytes;

    /// <summary>Deadline for one URL: connecting, redirects and reading the body.</summary>
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;

    /// <summary>Redirects followed, each only to the same host.</summary>
    [Range(0, 10)]
    public int MaxRedirects { get; set; } = DefaultMaxRedirects;

    /// <summary>Downloads running at once, over all requests. A request with URLs is refused (503, Retry-After) when
    /// none is free; one with several URLs runs as many at once as were free when it came in.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrentFetches { get; set; } = DefaultMaxConcurrentFetches;

    /// <summary>Bytes that downloaded images may hold at once, over all requests, until each request ends. Beyond it a
    /// request gets 503 (Retry-After), or 413 when its own URLs alone need more.</summary>
    [Range(1, 1L << 40)]
    public long MaxBytesInFlight { get; set; } = DefaultMaxBytesInFlight;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Enabled && !AllowedHosts.Any(h => !string.IsNullOrWhiteSpace(h)))
            yield return new ValidationResult("Clip:ImageUrls:AllowedHosts must name at least one host when Clip:ImageUrls:Enabled is true.", [nameof(AllowedHosts)]);
        if (AllowedHosts.Any(h => h.Contains('/', StringComparison.Ordinal) || h.Contains(':', StringComparison.Ordinal)))
            yield return new ValidationResult("Clip:ImageUrls:AllowedHosts holds host names only (no scheme, port or path).", [nameof(AllowedHosts)]);
        if (MaxBytesInFlight < MaxBytes)
            yield return new ValidationResult("Clip:ImageUrls:MaxBytesInFlight must be at least Clip:ImageUrls:MaxBytes (one image at its largest).", [nameof(MaxBytesInFlight)]);
    }

    /// <summary>Whether <paramref name="host"/> is one of <see cref="AllowedHosts"/>.</summary>
    public bool IsAllowed(string host) => AllowedHosts.Any(allowed =>
        allowed.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase) && host.Length > allowed.Length - 1
            : string.Equals(host, allowed, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Checks <see cref="ImageUrlOptions"/> at start: ranges and <see cref="ImageUrlOptions.Validate"/> (source-generated).</summary>
[OptionsValidator]
public sealed partial class ImageUrlOptionsValidator : IValidateOptions<ImageUrlOptions>;
