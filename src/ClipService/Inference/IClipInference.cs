using ClipService.Core.Models;

namespace ClipService.Inference;

/// <summary>Whose encoder work it is: a request's, or background work that waits until no request needs the encoder.</summary>
public enum EncoderPriority
{
    Request,

    /// <summary>Starts runs only while no request is running or waiting for the encoder, in small runs on one
    /// thread (the model's background encoder), so it takes at most one core and little throughput from traffic
    /// (it may wait indefinitely under sustained load).</summary>
    Background,
}

/// <summary>Encoder work for the endpoints: the only place requests reach the ONNX sessions.</summary>
public interface IClipInference
{
    /// <summary>Decodes, preprocesses and encodes one image; L2-normalised.</summary>
    Task<float[]> EmbedImageAsync(ClipModel model, ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken);

    /// <summary>Encodes texts exactly as given (cached by model and text); texts longer than the context are truncated.</summary>
    Task<TextEmbeddings> EmbedTextsAsync(ClipModel model, IReadOnlyList<string> texts, CancellationToken cancellationToken);

    /// <summary>Label embeddings for zero-shot scoring: each label in every template, ensembled when there are several (cached).</summary>
    Task<TextEmbeddings> EmbedLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="EmbedLabelsAsync"/> but bypassing the cache, in encoder runs of bounded size so other requests
    /// interleave: for large label sets whose embeddings the caller keeps.
    /// </summary>
    /// <param name="progress">Told the number of prompts of each encoder run once it is done.</param>
    Task<TextEmbeddings> ComputeLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, EncoderPriority priority,
        IProgress<int>? progress, CancellationToken cancellationToken);

    /// <summary>Runs the encoders once so the first request does not pay for initialisation.</summary>
    Task WarmUpAsync(ClipModel model, CancellationToken cancellationToken);
}
