using ClipService.Errors;
using ClipService.Models;
using ClipService.Requests;

namespace ClipService.Classification;

/// <summary>What a label list must satisfy: present, trimmed non-empty, bounded in count and length, no duplicates.</summary>
internal static class LabelRules
{
    public static List<string> Validate(IReadOnlyList<string> labels, RequestLimitsOptions options)
    {
        if (labels.Count == 0)
            throw new BadRequestException("'labels' is required: give at least one label.");
        if (labels.Count > options.MaxLabels)
            throw new BadRequestException($"At most {options.MaxLabels} labels are accepted; got {labels.Count}.");

        var cleaned = new List<string>(labels.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in labels)
        {
            var label = raw?.Trim() ?? "";
            if (label.Length == 0)
                throw new BadRequestException("Labels must not be empty.");
            if (label.Length > options.MaxLabelLength)
                throw new BadRequestException($"Labels may be at most {options.MaxLabelLength} characters; one has {label.Length}.");
            if (!seen.Add(label))
                throw new BadRequestException($"The label '{Echo.Of(label)}' is given twice.");
            cleaned.Add(label);
        }

        return cleaned;
    }
}
