using System.Text;

namespace ClipService.Core.Tokenization;

/// <summary>open_clip's text cleaning before its Hugging Face tokenizers (<c>text_cfg.tokenizer_kwargs.clean</c>),
/// which immich's exports carry and were trained with.</summary>
public enum TextCleaning
{
    /// <summary>The text as given (the Hugging Face layout: the tokenizer.json says everything).</summary>
    None,

    /// <summary>Runs of whitespace (Python's <c>str.split</c>) become one space, ends trimmed: open_clip's default.</summary>
    Whitespace,

    /// <summary>As <see cref="Whitespace"/>, then lowercased.</summary>
    Lower,

    /// <summary>open_clip's <c>canonicalize_text</c> (SigLIP): "_" becomes a space, ASCII punctuation is dropped, the
    /// text lowercased and its whitespace collapsed. immich keeps "_" and collapses before dropping punctuation; this
    /// follows open_clip, which the models were trained with.</summary>
    Canonicalize,
}

/// <summary>The managed part of <see cref="TextCleaning"/>; lowercasing is left to the tokenizer's normalizer, which
/// lowercases as Python does (<see cref="FinalSigma"/>).</summary>
internal static class OpenClipText
{
    public static bool Lowercases(TextCleaning cleaning) => cleaning is TextCleaning.Lower or TextCleaning.Canonicalize;

    public static TextCleaning Parse(string? value, string source) => value switch
    {
        null or "whitespace" => TextCleaning.Whitespace,
        "lower" => TextCleaning.Lower,
        "canonicalize" => TextCleaning.Canonicalize,
        "none" or "" => TextCleaning.None,
        _ => throw new Models.ModelFolderException($"{source}: text_cfg.tokenizer_kwargs.clean '{value}' is not one of whitespace, lower, canonicalize, none."),
    };

    public static string Clean(string text, TextCleaning cleaning)
    {
        if (cleaning != TextCleaning.Canonicalize)
            return cleaning == TextCleaning.None ? text : ClipTextCleaner.FoldWhitespace(text);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c == '_')
                builder.Append(' ');
            else if (!IsAsciiPunctuation(c))
                builder.Append(c);
        }

        return ClipTextCleaner.FoldWhitespace(builder.ToString());
    }

    /// <summary>Python's <c>string.punctuation</c>.</summary>
    private static bool IsAsciiPunctuation(char c) => c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~';
}
