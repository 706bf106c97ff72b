using ClipService.Core.Models;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Families;

/// <summary>Loading a folder's tokenizer.json for the families that use Hugging Face's tokenizers.</summary>
internal static class HuggingFaceTokenizers
{
    public static HuggingFaceTokenizer Load(ClipModelFolder folder, TokenizerAdjustments adjustments) =>
        HuggingFaceTokenizer.Load(
            folder.TokenizerJsonPath ?? throw new ModelFolderException($"Model folder '{folder.Directory}' has no tokenizer.json in {folder.TokenizerDirectory}; this family needs one."),
            adjustments);

    /// <summary>The id of the folder's pad token (its tokenizer config's, else the family's).</summary>
    public static int PadId(ClipModelFolder folder, HuggingFaceTokenizer tokenizer, string familyPadToken)
    {
        var pad = folder.PadToken ?? familyPadToken;
        return tokenizer.TryGetId(pad, out var id) ? id
            : throw new ModelFolderException($"Model folder '{folder.Directory}': the pad token '{pad}' is not in tokenizer.json.");
    }
}
