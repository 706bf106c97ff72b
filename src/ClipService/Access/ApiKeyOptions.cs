using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Access;

/// <summary>The "Clip:Auth" section. With no key configured the API is open (a Warning at start says so); with any, it
/// needs one. A configured key file must be readable and hold at least one valid key when the service starts.</summary>
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
        if (!string.IsNullOrEmpty(ApiKeysFile) && FileProblem(ApiKeysFile) is { } problem)
            yield return new ValidationResult($"{problem}.", [nameof(ApiKeysFile)]);
    }

    // A file configured but unusable stops the start: serving with no key would let every client in.
    private static string? FileProblem(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            return $"the file '{path}' does not exist";
        try
        {
            return ApiKeyFile.Read(path).Problem(path);
        }
        catch (ApiKeyFileException e)
        {
            return e.Message;
        }
    }
}

[OptionsValidator]
public sealed partial class ApiKeyOptionsValidator : IValidateOptions<ApiKeyOptions>;
