using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Access;

/// <summary>The "Clip:Auth" section. With no key configured the API is open; with any, it needs one.</summary>
public sealed class ApiKeyOptions : IValidatableObject
{
    public const string SectionName = "Clip:Auth";
    public const int MinimumKeyLength = 16;

    /// <summary>Accepted keys (Clip:Auth:ApiKeys:0, :1, ...).</summary>
    public IList<string> ApiKeys { get; set; } = [];

    /// <summary>A file of keys, one per line (blank lines and lines starting with # ignored), re-read when it changes:
    /// for Kubernetes and Docker secrets.</summary>
    public string? ApiKeysFile { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ApiKeys.Any(k => !ApiKeyStore.IsWellFormed(k)))
            yield return new ValidationResult($"every key must be at least {MinimumKeyLength} characters with no spaces.", [nameof(ApiKeys)]);
        if (!string.IsNullOrEmpty(ApiKeysFile) && !File.Exists(ApiKeysFile))
            yield return new ValidationResult($"the file '{ApiKeysFile}' does not exist.", [nameof(ApiKeysFile)]);
    }
}

[OptionsValidator]
public sealed partial class ApiKeyOptionsValidator : IValidateOptions<ApiKeyOptions>;
