using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClipService.Core.Tokenization;

/// <summary>
/// Where a tokenizer.json's normalizer lowercases (a <c>Lowercase</c> step, or BERT's normalizer with
/// <c>lowercase</c>), and which characters it has deleted by then: what <see cref="FinalSigma"/> needs to lowercase as
/// Python's <c>str.lower</c> and transformers.js do, on the text the lowercasing step sees.
/// </summary>
internal sealed class LowercaseStep
{
    private readonly List<Regex> _deletions;
    private readonly bool _deletesControls;

    private LowercaseStep(List<Regex> deletions, bool deletesControls)
    {
        _deletions = deletions;
        _deletesControls = deletesControls;
    }

    /// <summary>The normalizer's first lowercasing step, or null when it does not lowercase.</summary>
    public static LowercaseStep? Find(JsonNode? normalizer)
    {
        var deletions = new List<Regex>();
        foreach (var step in Steps(normalizer))
        {
            switch (step["type"]?.GetValue<string>())
            {
                case "Lowercase":
                    return new LowercaseStep(deletions, deletesControls: false);
                case "BertNormalizer" when step["lowercase"]?.GetValue<bool>() ?? true:
                    return new LowercaseStep(deletions, deletesControls: step["clean_text"]?.GetValue<bool>() ?? true);
                case "Replace" when step["content"]?.GetValue<string>() == "" && Pattern(step["pattern"]) is { } deleted:
                    deletions.Add(deleted);
                    break;
            }
        }

        return null;
    }

    /// <summary>Whether the steps before the lowercasing one delete this character.</summary>
    public bool RemovedBefore(Rune rune)
    {
        if (_deletesControls && Rune.IsControl(rune) && rune.Value is not ('\t' or '\n' or '\r'))
            return true;
        if (_deletions.Count == 0)
            return false;
        var text = rune.ToString();
        return _deletions.Exists(d => d.IsMatch(text));
    }

    private static IEnumerable<JsonObject> Steps(JsonNode? normalizer)
    {
        if (normalizer is not JsonObject step)
            yield break;
        if (step["normalizers"] is JsonArray steps)
        {
            foreach (var inner in steps)
            {
                foreach (var nested in Steps(inner))
                    yield return nested;
            }
        }
        else
        {
            yield return step;
        }
    }

    // A deletion whose pattern .NET cannot compile is left out: it only refines the final-sigma context.
    private static Regex? Pattern(JsonNode? pattern)
    {
        try
        {
            return pattern?["Regex"]?.GetValue<string>() is { } regex
                ? new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50))
                : pattern?["String"]?.GetValue<string>() is { Length: > 0 } literal
                    ? new Regex("^" + Regex.Escape(literal) + "$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50))
                    : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
