using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Families;

/// <summary>
/// SigLIP (v1): a SentencePiece Unigram tokenizer whose tokenizer.json lowercases, drops punctuation and collapses
/// whitespace, <c>&lt;/s&gt;</c> appended; always padded to 64 with the pad token (<c>&lt;/s&gt;</c>, id 1): the tower has
/// no attention mask and pools the last position. Scored with an independent sigmoid per label.
/// </summary>
public sealed class SiglipFamily : IModelFamily
{
    public string Name => "siglip";

    public bool Serves(ModelLayout layout, ModelConfig config) => layout switch
    {
        ModelLayout.HuggingFace => config.ModelType == "siglip" && !Siglip2Family.IsSiglip2(config),
        ModelLayout.Immich => config.TokenizerModel == "Unigram" && config.DeclaresLogitBias,
        _ => false,
    };

    public FamilyParts Bind(ClipModelFolder folder, float? logitScaleOverride) =>
        SigmoidFamilyParts.Bind(folder, TokenizerAdjustments.None, defaultPadToken: "</s>",
            // The multilingual SigLIP checkpoints have a 250k vocabulary; the English ones 32k.
            languages: folder.Config.TextVocabSize is > 100_000 ? null : FamilyParts.English);
}

/// <summary>
/// SigLIP 2 at a fixed resolution (model_type siglip, a Gemma tokenizer): byte-fallback BPE, lowercased (the model was
/// trained so, the shipped tokenizer.json does not say it), <c>&lt;eos&gt;</c> appended, padded to 64 with
/// <c>&lt;pad&gt;</c> (id 0). Scored like SigLIP.
/// </summary>
public sealed class Siglip2Family : IModelFamily
{
    public string Name => "siglip2";

    /// <summary>SigLIP 2 shares SigLIP's model_type; its Gemma tokenizer tells it apart.</summary>
    internal static bool IsSiglip2(ModelConfig config) =>
        config.TextVocabSize == 256_000 || IsGemmaClass(config.TokenizerClass) || config.TokenizerModel == "BPE";

    private static bool IsGemmaClass(string? type) =>
        type is not null && (type.Contains("Gemma", StringComparison.Ordinal) || type.Contains("Siglip2", StringComparison.Ordinal));

    public bool Serves(ModelLayout layout, ModelConfig config) => layout switch
    {
        ModelLayout.HuggingFace => config.ModelType == "siglip" && IsSiglip2(config),
        // Any other BPE tokenizer without CLIP's "</w>" (NLLB's, say) is not taken for a SigLIP 2: it is refused.
        ModelLayout.Immich => config.TokenizerModel == "BPE" && config.TokenizerEndOfWordSuffix != "</w>"
            && (config.DeclaresLogitBias || config.TextVocabSize == 256_000 || IsGemmaClass(config.TokenizerClass)),
        _ => false,
    };

    public FamilyParts Bind(ClipModelFolder folder, float? logitScaleOverride) =>
        SigmoidFamilyParts.Bind(folder, new TokenizerAdjustments(Lowercase: true, EndTokenOnly: "<eos>"), defaultPadToken: "<pad>", languages: null);
}

/// <summary>What SigLIP and SigLIP 2 share: padding to the full context, no crop by default, sigmoid scoring.</summary>
internal static class SigmoidFamilyParts
{
    public const string DefaultTemplate = "This is a photo of {}.";
    public const int ContextLength = 64;

    /// <remarks>Clip:LogitScale (a softmax temperature) is not applied: a sigmoid's scale and bias were trained
    /// together, and another scale with the same bias gives probabilities that mean nothing.</remarks>
    public static FamilyParts Bind(ClipModelFolder folder, TokenizerAdjustments adjustments, string defaultPadToken, IReadOnlySet<string>? languages)
    {
        var config = folder.Config;
        if (config.TrainedLogitBias is not null && config.TrainedLogitScale is null)
            throw new ModelFolderException($"Model folder '{folder.Directory}': config.json has trained_logit_bias but no trained_logit_scale; a sigmoid needs both.");
        IScoreFunction scoring = config.TrainedLogitBias is { } bias
            ? new SigmoidScoring(config.TrainedLogitScale!.Value, bias)
            : new RankOnlyScoring();
        return HuggingFaceTokenizers.Bind(folder, adjustments, tokenizer => new FamilyParts(
            tokenizer,
            new TextInputRule(config.TextPositions, ContextLength, HuggingFaceTokenizers.PadId(folder, tokenizer, defaultPadToken), PadToContext: true),
            folder.LoadPreprocessor(centerCropWhenUnsaid: false),
            scoring,
            DefaultTemplate) { Languages = languages });
    }
}
