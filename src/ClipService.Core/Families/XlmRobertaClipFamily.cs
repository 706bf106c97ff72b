using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Families;

/// <summary>
/// Multilingual CLIP with an XLM-RoBERTa text tower (open_clip's xlm-roberta models and M-CLIP, as immich exports
/// them): XLM-R's Unigram tokenizer, <c>&lt;s&gt; … &lt;/s&gt;</c>, padded with <c>&lt;pad&gt;</c> (id 1); softmax scoring.
/// </summary>
public sealed class XlmRobertaClipFamily : IModelFamily
{
    public string Name => "xlm_roberta_clip";

    public bool Serves(ModelLayout layout, ModelConfig config) =>
        layout == ModelLayout.Immich && config.TokenizerModel == "Unigram" && !config.DeclaresLogitBias;

    public FamilyParts Bind(ClipModelFolder folder, float? logitScaleOverride) =>
        HuggingFaceTokenizers.Bind(folder, TokenizerAdjustments.None, tokenizer => new FamilyParts(
            tokenizer,
            new TextInputRule(folder.ContextLength, 77, HuggingFaceTokenizers.PadId(folder, tokenizer, "<pad>"), PadToContext: false),
            folder.LoadPreprocessor(centerCropWhenUnsaid: true),
            new SoftmaxScoring(logitScaleOverride ?? folder.TrainedLogitScale ?? ClipModelFolder.DefaultLogitScale),
            PromptTemplates.Default));
}
