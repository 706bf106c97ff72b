using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace ClipService.RateLimiting;

/// <summary>The "Clip:RateLimiting" section. Off (0) by default.</summary>
public sealed class RateLimitingOptions : IValidatableObject
{
    public const string SectionName = "Clip:RateLimiting";

    /// <summary>Requests each client may make per minute (a client is its API key, else its address); 0 turns limiting off.</summary>
    [Range(0, 1_000_000)]
    public int PermitsPerMinute { get; set; }

    /// <summary>Addresses of reverse proxies (HAProxy, an ingress) whose X-Forwarded-For is believed when telling clients apart.</summary>
    public IList<string> TrustedProxies { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TrustedProxies.FirstOrDefault(p => !IPAddress.TryParse(p, out _)) is { } invalid)
            yield return new ValidationResult($"'{invalid}' is not an IP address.", [nameof(TrustedProxies)]);
    }
}

[OptionsValidator]
public sealed partial class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>;
