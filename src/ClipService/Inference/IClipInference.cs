using ClipService.Core.Models;

namespace ClipService.Inference;

/// <summary>Encoder work for the endpoints: the only place requests reach the ONNX sessions.</summary>
public interface IClipInference
{
    /// <summary>Decodes, preprocesses and encodes one image; L2-normalised.</summary>
    Task<float[]> EmbedImageAsync(ClipModel model, ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken);

    /// <summary>Encodes texts exactly as given; row-major [texts × dim], L2-normalised.</summary>
    Task<float[]> EmbedTextsAsync(ClipModel model, IReadOnlyList<string> texts, CancellationToken cancellationToken);

    /// <summary>Label embeddings for zero-shot scoring: each label in every template, ensembled when there are several.</summary>
    Task<float[]> EmbedLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken);

    /// <summary>Runs the encoders once so the first request does not pay for initialisation.</summary>
    Task WarmUpAsync(ClipModel model, CancellationToken cancellationToken);
}
