using ClipService.Core.Models;
using ClipService.Inference;

namespace ClipService.Tests;

/// <summary>The real inference, every call passed through; a test overrides the one it needs to hold or observe.</summary>
internal abstract class DelegatingClipInference(IClipInference inner) : IClipInference
{
    public virtual Task<float[]> EmbedImageAsync(ClipModel model, ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken) =>
        inner.EmbedImageAsync(model, encodedImage, cancellationToken);

    public virtual Task<TextEmbeddings> EmbedTextsAsync(ClipModel model, IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        inner.EmbedTextsAsync(model, texts, cancellationToken);

    public virtual Task<TextEmbeddings> EmbedLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken) =>
        inner.EmbedLabelsAsync(model, labels, templates, cancellationToken);

    public virtual Task<TextEmbeddings> ComputeLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, EncoderPriority priority,
        IProgress<int>? progress, CancellationToken cancellationToken) =>
        inner.ComputeLabelsAsync(model, labels, templates, priority, progress, cancellationToken);

    public virtual Task WarmUpAsync(ClipModel model, CancellationToken cancellationToken) => inner.WarmUpAsync(model, cancellationToken);
}
