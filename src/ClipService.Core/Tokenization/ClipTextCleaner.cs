using System.Globalization;
using System.Net;
using System.Text;

namespace ClipService.Core.Tokenization;

/// <summary>
/// The text clean-up of OpenAI's simple_tokenizer, with Python's semantics:
/// NFC (in place of ftfy.fix_text), html.unescape twice, whitespace runs folded to one space and trimmed
/// (Python's str.isspace), then Python's str.lower (full case mapping, including the final sigma rule).
/// </summary>
/// <remarks>ftfy's heuristic repairs (mojibake, quote uncurling, width folding) are not applied, as in the
/// reference vectors this tokenizer is tested against.</remarks>
internal static class ClipTextCleaner
{
    private const char CapitalSigma = '\u03A3';

    public static string Clean(string text)
    {
        text = ReplaceLoneSurrogates(text).Normalize(NormalizationForm.FormC);
        text = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return PythonLower(FoldWhitespace(text));
    }

    /// <summary>Python's str.isspace: White_Space plus the information separators U+001C..U+001F.</summary>
    public static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>Runs of Python whitespace become one space; the ends are trimmed (" ".join(text.split())).</summary>
    public static string FoldWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (IsPythonSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
                builder.Append(' ');
            pendingSpace = false;
            builder.Append(c);
        }

        return builder.ToString();
    }

    private static string PythonLower(string text)
    {
        var builder = new StringBuilder(text.Length);
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case 0x0130: // İ lower-cases to i + combining dot above (SpecialCasing.txt)
                    builder.Append("i\u0307");
                    break;
                case CapitalSigma:
                    builder.Append(IsFinalSigma(text, index) ? '\u03C2' : '\u03C3');
                    break;
                default:
                    builder.Append(Rune.ToLowerInvariant(rune).ToString());
                    break;
            }

            index += rune.Utf16SequenceLength;
        }

        return builder.ToString();
    }

    // Final_Sigma: preceded by a cased letter and not followed by one, skipping case-ignorable characters.
    private static bool IsFinalSigma(string text, int index)
    {
        var before = index;
        Rune previous = default;
        var foundBefore = false;
        while (before > 0)
        {
            Rune.DecodeLastFromUtf16(text.AsSpan(0, before), out previous, out var length);
            before -= length;
            if (!IsCaseIgnorable(previous))
            {
                foundBefore = true;
                break;
            }
        }

        if (!foundBefore || !IsCased(previous))
            return false;

        var after = index + 1;
        while (after < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(after), out var next, out var length);
            after += length;
            if (!IsCaseIgnorable(next))
                return !IsCased(next);
        }

        return true;
    }

    private static bool IsCased(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(Rune rune) =>
        rune.Value is '\'' or '.' or ':' or '^' or '`' or 0x00B7 or 0x2018 or 0x2019 or 0x2024 or 0x2027
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;

    private static string ReplaceLoneSurrogates(string text)
    {
        var span = text.AsSpan();
        for (var i = 0; i < span.Length; i++)
        {
            if (!char.IsSurrogate(span[i]))
                continue;
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
                continue;
            }

            var chars = text.ToCharArray();
            for (var j = i; j < chars.Length; j++)
            {
                if (char.IsHighSurrogate(chars[j]) && j + 1 < chars.Length && char.IsLowSurrogate(chars[j + 1]))
                    j++;
                else if (char.IsSurrogate(chars[j]))
                    chars[j] = '\uFFFD';
            }

            return new string(chars);
        }

        return text;
    }
}
