using System.Buffers;
using System.Globalization;
using System.Text;

namespace ClipService.Core.Tokenization;

/// <summary>
/// The one context rule of Unicode's full lowercase mapping that Hugging Face's <c>Lowercase</c> normalizer leaves
/// out: it lowercases character by character, so a word-final capital sigma becomes σ, where Python's
/// <c>str.lower</c> (what SigLIP 2's reference lowercasing is) and JavaScript's <c>toLowerCase</c> give ς
/// ("ΟΔΟΣ" → "οδος"). Applied before any normalizer that lowercases (SigLIP 2's injected one, a file's own
/// <c>Lowercase</c>, BERT's), which leaves ς as it is.
/// </summary>
internal static class FinalSigma
{
    private const char CapitalSigma = '\u03A3';
    private const char FinalSmallSigma = '\u03C2';

    /// <summary>The text with each capital sigma in Unicode's Final_Sigma context replaced by ς.</summary>
    /// <param name="text">The text.</param>
    /// <param name="removedFirst">Characters the normalizer deletes before it lowercases (SigLIP's files drop ASCII
    /// punctuation first): the context is judged as if they were gone, as it is when the lowercasing step runs.</param>
    public static string Apply(string text, Func<Rune, bool>? removedFirst = null)
    {
        if (!text.Contains(CapitalSigma, StringComparison.Ordinal))
            return text;
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] == CapitalSigma && CasedBefore(text, i, removedFirst) && !CasedAfter(text, i + 1, removedFirst))
                chars[i] = FinalSmallSigma;
        }

        return new string(chars);
    }

    // Final_Sigma (Unicode 3.13): a cased letter, then any case-ignorable characters, before; and not any
    // case-ignorable characters followed by a cased letter after.
    private static bool CasedBefore(string text, int index, Func<Rune, bool>? removedFirst)
    {
        for (var i = index; i > 0;)
        {
            if (Rune.DecodeLastFromUtf16(text.AsSpan(0, i), out var rune, out var length) != OperationStatus.Done)
                return false;
            if (IsCaseIgnorable(rune) || removedFirst?.Invoke(rune) == true)
            {
                i -= length;
                continue;
            }

            return IsCased(rune);
        }

        return false;
    }

    private static bool CasedAfter(string text, int index, Func<Rune, bool>? removedFirst)
    {
        for (var i = index; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var length) != OperationStatus.Done)
                return false;
            if (IsCaseIgnorable(rune) || removedFirst?.Invoke(rune) == true)
            {
                i += length;
                continue;
            }

            return IsCased(rune);
        }

        return false;
    }

    private static bool IsCased(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        // Word_Break MidLetter, MidNumLet and Single_Quote.
        || rune.Value is '\'' or '.' or ':' or '\u00B7' or '\u0387' or '\u055F' or '\u05F4' or '\u2018' or '\u2019'
            or '\u2024' or '\u2027' or '\uFE13' or '\uFE52' or '\uFE55' or '\uFF07' or '\uFF0E' or '\uFF1A';
}
