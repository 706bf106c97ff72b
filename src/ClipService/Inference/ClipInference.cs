using System.Buffers;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Diagnostics;
using Microsoft.Extensions.Options;

namespace ClipService.Inference;

/// <summary>
/// The service's encoder work: images through the model's <see cref="ImageBatcher"/> (batched across requests),
/// texts through the <see cref="TextEmbeddingCache"/> (a request's misses encoded in one call through the
/// <see cref="InferenceGate"/>, repeated prompts and label ensembles not encoded again).
/// </summary>
public sealed class ClipInference(
    ImageBatchers batchers,
    TextEmbeddingCache cache,
    InferenceGate gate,
    IOptions<InferenceOptions> inference,
    IOptions<BatchingOptions> batching,
    ClipMetrics metrics) : IClipInference
{
    private TimeSpan Timeout => TimeSpan.FromSeconds(inference.Value.RequestTimeoutSeconds);

    public async Task<float[]> EmbedImageAsync(ClipModel model, ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken)
    {
        var batcher = batchers.For(model);
        var pixels = batcher.RentPixels();
        try
        {
            using var decode = ClipTracing.StartDecode();
            model.Preprocessor.Preprocess(encodedImage.Span, pixels);
        }
        catch
        {
            ArrayPool<float>.Shared.Return(pixels);
            throw;
        }

        return await batcher.EncodeAsync(pixels, Timeout, cancellationToken);
    }

    public async Task<float[]> EmbedTextsAsync(ClipModel model, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var keys = texts.Select(t => TextEmbeddingCache.PromptKey(model.Name, t)).ToList();
        var rows = await cache.GetOrComputeAsync(keys, (missing, token) => gate.RunAsync(() =>
        {
            using var encode = metrics.TextBatch(model.Name, missing.Count);
            var embeddings = model.EncodeTexts([.. missing.Select(i => texts[i])]);
            return Rows(embeddings, missing.Count, model.EmbeddingSize);
        }, token), cancellationToken);
        return Flatten(rows, model.EmbeddingSize);
    }

    public async Task<float[]> EmbedLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken)
    {
        if (templates.Count == 1)
            return await EmbedTextsAsync(model, [.. labels.Select(l => PromptTemplates.Apply(templates[0], l))], cancellationToken);

        var keys = labels.Select(l => TextEmbeddingCache.EnsembleKey(model.Name, templates, l)).ToList();
        var rows = await cache.GetOrComputeAsync(keys, async (missing, token) =>
        {
            var prompts = missing.SelectMany(i => templates.Select(t => PromptTemplates.Apply(t, labels[i]))).ToList();
            var embeddings = await EmbedTextsAsync(model, prompts, token);
            return Rows(ZeroShotScorer.Ensemble(embeddings, missing.Count, templates.Count, model.EmbeddingSize), missing.Count, model.EmbeddingSize);
        }, cancellationToken);
        return Flatten(rows, model.EmbeddingSize);
    }

    /// <summary>One text run, and one image run at each power-of-two batch size up to the largest batch.</summary>
    public async Task WarmUpAsync(ClipModel model, CancellationToken cancellationToken)
    {
        await gate.RunAsync(() => model.EncodeTexts([PromptTemplates.Apply(PromptTemplates.Default, "warm-up")]), cancellationToken);
        var largest = batching.Value.MaxBatchSize;
        var pixels = new float[largest * model.Preprocessor.TensorLength];
        var embeddings = new float[largest * model.EmbeddingSize];
        for (var size = 1; ; size = Math.Min(size * 2, largest))
        {
            var count = size;
            await gate.RunAsync(() =>
            {
                model.Image.Encode(pixels, count, embeddings);
                return count;
            }, cancellationToken);
            if (size == largest)
                break;
        }
    }

    private static float[][] Rows(float[] flat, int count, int size) =>
        [.. Enumerable.Range(0, count).Select(i => flat.AsSpan(i * size, size).ToArray())];

    private static float[] Flatten(float[][] rows, int size)
    {
        var flat = new float[rows.Length * size];
        for (var i = 0; i < rows.Length; i++)
            rows[i].CopyTo(flat, i * size);
        return flat;
    }
}
