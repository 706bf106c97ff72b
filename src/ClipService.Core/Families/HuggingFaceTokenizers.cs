using ClipService.Core.Models;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Families;

/// <summary>Loading a folder's tokenizer.json for the families that use Hugging Face's tokenizers.</summary>
internal static class HuggingFaceTokenizers
{
    /// <summary>The folder's tokenizer with the family's adjustments; an immich (open_clip) folder's text is also cleaned
    /// as its <c>tokenizer_kwargs.clean</c> says (open_clip's default: whitespace).</summary>
    public static HuggingFaceTokenizer Load(ClipModelFolder folder, TokenizerAdjustments adjustments) =>
        HuggingFaceTokenizer.Load(
            folder.TokenizerJsonPath ?? throw new ModelFolderException($"Model folder '{folder.Directory}' has no tokenizer.json in {folder.TokenizerDirectory}; this family needs one."),
            folder.Layout == ModelLayout.Immich
                ? adjustments with { Cleaning = OpenClipText.Parse(folder.Config.OpenClipTextClean, Path.Combine(folder.Directory, "config.json")) }
                : adjustments);

    /// <summary>Binds a family's parts around the folder's tokenizer, which is freed if the rest fails.</summary>
    public static FamilyParts Bind(ClipModelFolder folder, TokenizerAdjustments adjustments, Func<HuggingFaceTokenizer, FamilyParts> parts)
    {
        var tokenizer = Load(folder, adjustments);
        try
        {
            return parts(tokenizer);
        }
        catch
        {
            tokenizer.Dispose();
            throw;
        }
    }

    /// <summary>The id of the folder's pad token (its tokenizer config's, else the family's).</summary>
    public static int PadId(ClipModelFolder folder, HuggingFaceTokenizer tokenizer, string familyPadToken)
    {
        var pad = folder.PadToken ?? familyPadToken;
        return tokenizer.TryGetId(pad, out var id) ? id
            : throw new ModelFolderException($"Model folder '{folder.Directory}': the pad token '{pad}' is not in tokenizer.json.");
    }
}
