using System.Globalization;

namespace ClipService.Errors;

/// <summary>A client's value quoted in an error message, cut short: a 1 MB label or model name is neither sent back
/// nor logged whole.</summary>
public static class Echo
{
    public const int MaxLength = 200;

    public static string Of(string? value, int maxLength = MaxLength) =>
        value is null || value.Length <= maxLength ? value ?? ""
            : string.Create(CultureInfo.InvariantCulture, $"{value[..maxLength]}… ({value.Length:N0} characters)");
}
