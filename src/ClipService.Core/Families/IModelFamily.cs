using ClipService.Core.Encoders;
using ClipService.Core.Imaging;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;

namespace ClipService.Core.Families;

/// <summary>
/// A kind of vision-language model: how its text is tokenised and laid out, how its images are preprocessed when
/// the folder is silent, how similarities become scores, and the template a label goes into by default. One
/// implementation per family, registered once in <see cref="ModelFamilies"/>; chosen from the folder's configuration
/// files (<see cref="ModelConfig"/>), never from its name.
/// </summary>
public interface IModelFamily
{
    /// <summary>The family's name in <c>GET /models</c>: "clip", "siglip", "siglip2", "chinese_clip", "xlm_roberta_clip".</summary>
    string Name { get; }

    /// <summary>True when this family serves a folder with this layout and configuration.</summary>
    bool Serves(ModelLayout layout, ModelConfig config);

    /// <summary>The family's parts for one folder. Throws <see cref="ModelFolderException"/> for a folder it cannot serve.</summary>
    FamilyParts Bind(ClipModelFolder folder, float? logitScaleOverride);
}

/// <summary>What a family gives a loaded model.</summary>
/// <param name="Tokenizer">Prompt → ids, with the family's special tokens.</param>
/// <param name="TextInput">Padding, pad id and context for the text tower.</param>
/// <param name="Preprocessor">The folder's preprocessing read with the family's defaults; null where OpenAI's
/// constants apply (clip-as-service, sized from the graph).</param>
/// <param name="Scoring">Similarities → scores.</param>
/// <param name="DefaultTemplate">The template a label goes into when the request gives none.</param>
public sealed record FamilyParts(IPromptTokenizer Tokenizer, TextInputRule TextInput, PreprocessorSettings? Preprocessor,
    IScoreFunction Scoring, string DefaultTemplate)
{
    /// <summary>English only: the OpenAI CLIP vocabulary and the English SigLIP checkpoints.</summary>
    public static readonly IReadOnlySet<string> English = new HashSet<string>(["en"], StringComparer.Ordinal);

    /// <summary>The languages (ISO 639-1 codes) the text tower was trained on; null for a multilingual vocabulary
    /// (XLM-R, Gemma, multilingual SigLIP). Decides only which label sets are embedded ahead of time: a request in
    /// any language is still served.</summary>
    public IReadOnlySet<string>? Languages { get; init; }
}
