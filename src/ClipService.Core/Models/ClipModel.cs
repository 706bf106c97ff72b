using ClipService.Core.Encoders;
using ClipService.Core.Families;
using ClipService.Core.Imaging;
using ClipService.Core.Scoring;
using ClipService.Core.Tokenization;
using Microsoft.Extensions.Logging;

namespace ClipService.Core.Models;

/// <summary>How to load a model folder.</summary>
public sealed class ClipModelLoadOptions
{
    public ModelPrecision Precision { get; init; } = ModelPrecision.Default;
    public ExecutionProviderOptions ExecutionProvider { get; init; } = new();
    public ImageDecodingOptions ImageDecoding { get; init; } = new();

    /// <summary>Overrides the folder's trained logit scale (and CLIP's default of 100).</summary>
    public float? LogitScale { get; init; }
}

/// <summary>
/// A loaded model: its family's tokenizer and score function, the image preprocessor, and one session per encoder,
/// created once and shared by all callers (every member is safe for concurrent use).
/// </summary>
public sealed class ClipModel : IDisposable
{
    private ClipModel(ClipModelFolder folder, IModelFamily family, FamilyParts parts, ClipImagePreprocessor preprocessor,
        TextEncoder text, ImageEncoder image)
    {
        Folder = folder;
        Family = family;
        Tokenizer = parts.Tokenizer;
        TextInput = parts.TextInput;
        Scoring = parts.Scoring;
        DefaultTemplate = parts.DefaultTemplate;
        Languages = parts.Languages;
        Preprocessor = preprocessor;
        Text = text;
        Image = image;
    }

    public string Name => Folder.Name;
    public ClipModelFolder Folder { get; }
    public IModelFamily Family { get; }
    public IPromptTokenizer Tokenizer { get; }

    /// <summary>How the family lays prompts out for the text tower (padding, pad id, context).</summary>
    public TextInputRule TextInput { get; }

    /// <summary>How this model's similarities become scores (softmax, sigmoid, or ranking only).</summary>
    public IScoreFunction Scoring { get; }

    /// <summary>The template a label goes into when a request gives none.</summary>
    public string DefaultTemplate { get; }

    /// <summary>The languages its text tower was trained on (ISO 639-1); null: multilingual.</summary>
    public IReadOnlySet<string>? Languages { get; }

    /// <summary>False when text in <paramref name="language"/> (an ISO 639-1 code; null: unknown) is not what the
    /// text tower was trained on, so embedding a set of it ahead of time would spend CPU on prompts no one should send it.</summary>
    public bool Reads(string? language) => language is null || Languages is null || Languages.Contains(language);

    public ClipImagePreprocessor Preprocessor { get; }
    public TextEncoder Text { get; }
    public ImageEncoder Image { get; }
    public int EmbeddingSize => Image.EmbeddingSize;
    public int ContextLength => Text.ContextLength;

    /// <summary>The execution provider the encoders run on (both use the same one).</summary>
    public string Provider => Image.Provider == Text.Provider ? Image.Provider : $"{Image.Provider} (image), {Text.Provider} (text)";

    public static ClipModel Load(string directory, ClipModelLoadOptions? options = null, ILogger? logger = null)
    {
        options ??= new ClipModelLoadOptions();
        var folder = ClipModelFolder.Open(directory, options.Precision);
        var family = ModelFamilies.For(folder);
        var parts = family.Bind(folder, options.LogitScale);

        // Whatever was made before a failure is freed: a reload or a test that loads many folders must not leak them.
        EncoderSession? textSession = null;
        EncoderSession? visionSession = null;
        try
        {
            textSession = OnnxSessionFactory.Create(folder.TextModelPath, options.ExecutionProvider, logger);
            visionSession = OnnxSessionFactory.Create(folder.VisionModelPath, options.ExecutionProvider, logger);
            var text = new TextEncoder(textSession, folder.TextModelPath, parts.TextInput);
            var settings = parts.Preprocessor ?? PreprocessorSettings.OpenAi(ImageSizeOf(visionSession, folder.VisionModelPath));
            var preprocessor = new ClipImagePreprocessor(settings, new ClipImageDecoder(options.ImageDecoding));
            var image = new ImageEncoder(visionSession, folder.VisionModelPath, (preprocessor.Height, preprocessor.Width));
            if (text.EmbeddingSize != image.EmbeddingSize)
                throw new ModelFolderException($"Model folder '{directory}': the text encoder gives {text.EmbeddingSize}-d embeddings, the image encoder {image.EmbeddingSize}-d.");
            if (folder.ProjectionDim is { } dim && dim != image.EmbeddingSize)
                throw new ModelFolderException($"Model folder '{directory}': config.json says projection_dim {dim}, the encoders give {image.EmbeddingSize}.");
            return new ClipModel(folder, family, parts, preprocessor, text, image);
        }
        catch
        {
            textSession?.Session.Dispose();
            visionSession?.Session.Dispose();
            (parts.Tokenizer as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A second text encoder on its own session (the text graph loaded again), for work that must not take every
    /// core: background work with <paramref name="provider"/>'s <see cref="ExecutionProviderOptions.IntraOpThreads"/>
    /// set to 1 runs on the calling thread only. It embeds exactly as <see cref="Text"/> does; the caller disposes it.
    /// </summary>
    public TextEncoder OpenTextEncoder(ExecutionProviderOptions provider, ILogger? logger = null)
    {
        var session = OnnxSessionFactory.Create(Folder.TextModelPath, provider, logger);
        try
        {
            return new TextEncoder(session, Folder.TextModelPath, TextInput);
        }
        catch
        {
            session.Session.Dispose();
            throw;
        }
    }

    /// <summary>Tokenises and encodes <paramref name="texts"/> exactly as given, in one encoder call.</summary>
    /// <returns>Row-major [texts × <see cref="EmbeddingSize"/>], L2-normalised.</returns>
    public float[] EncodeTexts(IReadOnlyList<string> texts)
    {
        var prompts = new int[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
            prompts[i] = Tokenizer.Tokenize(texts[i], ContextLength);
        return Text.Encode(prompts);
    }

    /// <summary>Decodes, preprocesses and encodes one image.</summary>
    public float[] EncodeImage(ReadOnlySpan<byte> encodedImage)
    {
        var pixels = new float[Preprocessor.TensorLength];
        Preprocessor.Preprocess(encodedImage, pixels);
        var embedding = new float[EmbeddingSize];
        Image.Encode(pixels, 1, embedding);
        return embedding;
    }

    public void Dispose()
    {
        Text.Dispose();
        Image.Dispose();
        (Tokenizer as IDisposable)?.Dispose();
    }

    private static int ImageSizeOf(EncoderSession session, string file)
    {
        var dims = session.Session.InputMetadata.Values.First().Dimensions;
        return dims is [_, _, > 0 and var h, var w] && h == w
            ? h
            : throw new ModelFolderException($"{file}: the pixel input has no fixed square size ({string.Join(",", dims)}) and the folder has no preprocessor_config.json to give one.");
    }
}
