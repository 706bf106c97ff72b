using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Families;

/// <summary>
/// OpenAI CLIP and its open_clip descendants: CLIP's byte-level BPE (managed, id for id), start and end tokens,
/// 77 positions, softmax over scale · cos.
/// </summary>
public sealed class ClipFamily : IModelFamily
{
    public string Name => "clip";

    public bool Serves(ModelLayout layout, ModelConfig config) => layout switch
    {
        ModelLayout.ClipAsService => true,
        // A Hugging Face folder without model_type is served as CLIP, as before families existed.
        ModelLayout.HuggingFace => config.ModelType is "clip" or null,
        ModelLayout.Immich => config.TokenizerModel == "BPE" && config.TokenizerEndOfWordSuffix == "</w>",
        _ => false,
    };

    public FamilyParts Bind(ClipModelFolder folder, float? logitScaleOverride)
    {
        var vocabulary = folder.LoadVocabulary();
        if (vocabulary.Count <= Math.Max(vocabulary.StartOfText, vocabulary.EndOfText))
            throw new ModelFolderException($"Model folder '{folder.Directory}': the tokenizer's special tokens lie outside its vocabulary.");
        // open_clip (clip-as-service, immich) pads with 0; Hugging Face with the tokenizer config's pad token.
        var padId = folder.Layout is ModelLayout.ClipAsService or ModelLayout.Immich ? 0
            : folder.PadToken is { } pad && vocabulary.TryGetId(pad, out var id) ? id
            : vocabulary.EndOfText;
        return new FamilyParts(
            new ClipTokenizer(vocabulary),
            new TextInputRule(folder.ContextLength, 77, padId, PadToContext: false),
            folder.LoadPreprocessor(centerCropWhenUnsaid: true),
            new SoftmaxScoring(logitScaleOverride ?? folder.TrainedLogitScale ?? ClipModelFolder.DefaultLogitScale),
            PromptTemplates.Default) { Languages = FamilyParts.English };
    }
}
