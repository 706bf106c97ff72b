using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Families;

/// <summary>
/// Chinese-CLIP (OFA-Sys): a BERT WordPiece tokenizer (CJK characters split one by one), <c>[CLS] … [SEP]</c>, 52
/// positions, an attention mask and token type ids (zeros); softmax over scale · cos, as CLIP.
/// </summary>
public sealed class ChineseClipFamily : IModelFamily
{
    public const string DefaultTemplate = "一张{}的照片。";

    // The context Chinese-CLIP was trained with; config.json's max_position_embeddings (512) is BERT's.
    private const int ContextLength = 52;

    public string Name => "chinese_clip";

    public bool Serves(ModelLayout layout, ModelConfig config) => layout == ModelLayout.HuggingFace && config.ModelType == "chinese_clip";

    public FamilyParts Bind(ClipModelFolder folder, float? logitScaleOverride) =>
        HuggingFaceTokenizers.Bind(folder, TokenizerAdjustments.None, tokenizer => new FamilyParts(
            tokenizer,
            new TextInputRule(null, ContextLength, HuggingFaceTokenizers.PadId(folder, tokenizer, "[PAD]"), PadToContext: false),
            folder.LoadPreprocessor(centerCropWhenUnsaid: true),
            new SoftmaxScoring(logitScaleOverride ?? folder.TrainedLogitScale ?? ClipModelFolder.DefaultLogitScale),
            DefaultTemplate) { Languages = ChineseAndEnglish });

    // Chinese-CLIP's BERT vocabulary holds English word pieces too, and its training pairs include English.
    private static readonly IReadOnlySet<string> ChineseAndEnglish = new HashSet<string>(["zh", "en"], StringComparer.Ordinal);
}
