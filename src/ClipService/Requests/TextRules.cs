using ClipService.Errors;
using ClipService.Models;

namespace ClipService.Requests;

/// <summary>What a list of texts to embed must satisfy: 1 to Clip:MaxTexts strings of at most Clip:MaxLabelLength characters.</summary>
public static class TextRules
{
    /// <param name="field">The field's name for error messages.</param>
    public static void Validate(IReadOnlyList<string?> texts, string field, RequestLimitsOptions options)
    {
        if (texts.Count == 0 || texts.Count > options.MaxTexts)
            throw new BadRequestException($"'{field}' must hold 1 to {options.MaxTexts} strings (Clip:MaxTexts); got {texts.Count}.");
        for (var i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
                throw new BadRequestException($"'{field}[{i}]' is null; every input must be a string.");
            if (texts[i]!.Length > options.MaxLabelLength)
            {
                throw new BadRequestException($"'{field}[{i}]' has {texts[i]!.Length} characters; at most {options.MaxLabelLength} are accepted " +
                    "(Clip:MaxLabelLength; longer texts would be truncated to the model's context anyway).");
            }
        }
    }
}
