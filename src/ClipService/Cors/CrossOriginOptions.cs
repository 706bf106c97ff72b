using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Cors;

/// <summary>The "Clip:Cors" section: which browser origins may call the API. None (CORS off) by default.</summary>
public sealed class CrossOriginOptions : IValidatableObject
{
    public const string SectionName = "Clip:Cors";

    /// <summary>Origins such as https://app.example.com (scheme, host and port; no path).</summary>
    public IList<string> AllowedOrigins { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AllowedOrigins.FirstOrDefault(o => !IsOrigin(o)) is { } invalid)
            yield return new ValidationResult($"'{invalid}' is not an origin (scheme://host[:port], no path).", [nameof(AllowedOrigins)]);
    }

    private static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && !value.EndsWith('/') && string.IsNullOrEmpty(uri.Query);
}

[OptionsValidator]
public sealed partial class CrossOriginOptionsValidator : IValidateOptions<CrossOriginOptions>;
