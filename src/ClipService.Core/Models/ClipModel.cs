using ClipService.Core.Encoders;
using ClipService.Core.Imaging;
using ClipService.Core.Tokenization;
using Microsoft.Extensions.Logging;

namespace ClipService.Core.Models;

/// <summary>How to load a model folder.</summary>
public sealed class ClipModelLoadOptions
{
    public ModelPrecision Precision { get; init; } = ModelPrecision.Default;
    public ExecutionProviderOptions ExecutionProvider { get; init; } = new();
    public ImageDecodingOptions ImageDecoding { get; init; } = new();

    /// <summary>Overrides the folder's trained logit scale (and the default of 100).</summary>
    public float? LogitScale { get; init; }
}

/// <summary>
/// A loaded CLIP: tokenizer, image preprocessor, and one session per encoder, created once and shared by
/// all callers (every member is safe for concurrent use).
/// </summary>
public sealed class ClipModel : IDisposable
{
    private ClipModel(ClipModelFolder folder, ClipTokenizer tokenizer, ClipImagePreprocessor preprocessor,
        TextEncoder text, ImageEncoder image, float logitScale)
    {
        Folder = folder;
        Tokenizer = tokenizer;
        Preprocessor = preprocessor;
        Text = text;
        Image = image;
        LogitScale = logitScale;
    }

    public string Name => Folder.Name;
    public ClipModelFolder Folder { get; }
    public ClipTokenizer Tokenizer { get; }
    public ClipImagePreprocessor Preprocessor { get; }
    public TextEncoder Text { get; }
    public ImageEncoder Image { get; }
    public float LogitScale { get; }
    public int EmbeddingSize => Image.EmbeddingSize;
    public int ContextLength => Text.ContextLength;

    /// <summary>The execution provider the encoders run on (both use the same one).</summary>
    public string Provider => Image.Provider == Text.Provider ? Image.Provider : $"{Image.Provider} (image), {Text.Provider} (text)";

    public static ClipModel Load(string directory, ClipModelLoadOptions? options = null, ILogger? logger = null)
    {
        options ??= new ClipModelLoadOptions();
        var folder = ClipModelFolder.Open(directory, options.Precision);
        var vocabulary = folder.LoadVocabulary();
        var padId = folder.Layout == ModelLayout.ClipAsService ? 0
            : folder.PadToken is { } pad && vocabulary.TryGetId(pad, out var id) ? id
            : vocabulary.EndOfText;

        var textSession = OnnxSessionFactory.Create(folder.TextModelPath, options.ExecutionProvider, logger);
        var visionSession = OnnxSessionFactory.Create(folder.VisionModelPath, options.ExecutionProvider, logger);
        try
        {
            var text = new TextEncoder(textSession, folder.TextModelPath, folder.ContextLength, padId);
            var settings = folder.Preprocessor ?? PreprocessorSettings.OpenAi(ImageSizeOf(visionSession, folder.VisionModelPath));
            var preprocessor = new ClipImagePreprocessor(settings, new ClipImageDecoder(options.ImageDecoding));
            var image = new ImageEncoder(visionSession, folder.VisionModelPath, (preprocessor.Height, preprocessor.Width));
            if (text.EmbeddingSize != image.EmbeddingSize)
                throw new ModelFolderException($"Model folder '{directory}': the text encoder gives {text.EmbeddingSize}-d embeddings, the image encoder {image.EmbeddingSize}-d.");
            if (folder.ProjectionDim is { } dim && dim != image.EmbeddingSize)
                throw new ModelFolderException($"Model folder '{directory}': config.json says projection_dim {dim}, the encoders give {image.EmbeddingSize}.");
            if (vocabulary.Count <= Math.Max(vocabulary.StartOfText, vocabulary.EndOfText))
                throw new ModelFolderException($"Model folder '{directory}': the tokenizer's special tokens lie outside its vocabulary.");

            var scale = options.LogitScale ?? folder.TrainedLogitScale ?? ClipModelFolder.DefaultLogitScale;
            return new ClipModel(folder, new ClipTokenizer(vocabulary), preprocessor, text, image, scale);
        }
        catch
        {
            textSession.Session.Dispose();
            visionSession.Session.Dispose();
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
    }

    private static int ImageSizeOf(EncoderSession session, string file)
    {
        var dims = session.Session.InputMetadata.Values.First().Dimensions;
        return dims is [_, _, > 0 and var h, var w] && h == w
            ? h
            : throw new ModelFolderException($"{file}: the pixel input has no fixed square size ({string.Join(",", dims)}) and the folder has no preprocessor_config.json to give one.");
    }
}
