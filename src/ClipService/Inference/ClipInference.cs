using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Diagnostics;
using Microsoft.Extensions.Options;
using SkiaSharp;

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
    /// <summary>Prompts per text-encoder run when computing large ensembles.</summary>
    internal const int PromptsPerRun = 256;

    private TimeSpan Timeout => TimeSpan.FromSeconds(inference.Value.RequestTimeoutSeconds);

    public Task<float[]> EmbedImageAsync(ClipModel model, ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken) =>
        batchers.For(model).EncodeAsync(encodedImage, Timeout, cancellationToken);

    public async Task<TextEmbeddings> EmbedTextsAsync(ClipModel model, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var keys = texts.Select(t => TextEmbeddingCache.PromptKey(model.Name, t)).ToList();
        var rows = await cache.GetOrComputeAsync(keys, (missing, token) =>
        {
            var prompts = Tokenize(model, [.. missing.Select(i => texts[i])]);
            return gate.RunAsync(() =>
            {
                using var call = metrics.TextBatch(model.Name, prompts.Ids.Length);
                return Encode(model, prompts);
            }, token);
        }, cancellationToken);
        return new TextEmbeddings(rows);
    }

    public async Task<TextEmbeddings> EmbedLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken)
    {
        if (templates.Count == 1)
            return await EmbedTextsAsync(model, [.. labels.Select(l => PromptTemplates.Apply(templates[0], l))], cancellationToken);

        var keys = labels.Select(l => TextEmbeddingCache.EnsembleKey(model.Name, templates, l)).ToList();
        var rows = await cache.GetOrComputeAsync(keys,
            (missing, token) => EnsembleAsync(model, [.. missing.Select(i => labels[i])], templates, token), cancellationToken);
        return new TextEmbeddings(rows);
    }

    public async Task<TextEmbeddings> ComputeLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken) =>
        new(await EnsembleAsync(model, labels, templates, cancellationToken));

    /// <summary>One text run, one image decode (loads Skia's native library), and one image run at each
    /// power-of-two batch size up to the largest batch.</summary>
    public async Task WarmUpAsync(ClipModel model, CancellationToken cancellationToken)
    {
        await gate.RunAsync(() => model.EncodeTexts([PromptTemplates.Apply(PromptTemplates.Default, "warm-up")]), cancellationToken);
        var largest = batching.Value.MaxBatchSize;
        var pixels = new float[largest * model.Preprocessor.TensorLength];
        using (var blank = new SKBitmap(32, 32))
        using (var png = blank.Encode(SKEncodedImageFormat.Png, 100))
            model.Preprocessor.Preprocess(png.AsSpan(), pixels);
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

    /// <summary>
    /// Each label in every template, encoded in runs of at most <see cref="PromptsPerRun"/> prompts (so a large
    /// label set does not hold the encoder for long), each label's prompts ensembled into its own row.
    /// </summary>
    private async Task<TextEmbedding[]> EnsembleAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken)
    {
        var result = new TextEmbedding[labels.Count];
        var labelsPerRun = Math.Max(1, PromptsPerRun / templates.Count);
        for (var first = 0; first < labels.Count; first += labelsPerRun)
        {
            var count = Math.Min(labelsPerRun, labels.Count - first);
            var texts = new List<string>(count * templates.Count);
            for (var l = first; l < first + count; l++)
                texts.AddRange(templates.Select(t => PromptTemplates.Apply(t, labels[l])));
            var prompts = Tokenize(model, texts);
            var flat = await gate.RunAsync(() =>
            {
                using var call = metrics.TextBatch(model.Name, prompts.Ids.Length);
                return model.Text.Encode(prompts.Ids);
            }, cancellationToken);

            var dim = model.EmbeddingSize;
            var block = templates.Count * dim;
            for (var l = 0; l < count; l++)
            {
                var row = new float[dim];
                ZeroShotScorer.Ensemble(flat.AsSpan(l * block, block), templates.Count, row);
                var tokens = 0;
                var truncated = false;
                for (var t = l * templates.Count; t < (l + 1) * templates.Count; t++)
                {
                    tokens += prompts.Ids[t].Length;
                    truncated |= prompts.Truncated[t];
                }

                result[first + l] = new TextEmbedding(row, tokens, truncated);
            }
        }

        return result;
    }

    private sealed record TokenizedTexts(int[][] Ids, bool[] Truncated);

    // Outside the gate: tokenizing needs no encoder slot.
    private static TokenizedTexts Tokenize(ClipModel model, List<string> texts)
    {
        var ids = new int[texts.Count][];
        var truncated = new bool[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            ids[i] = model.Tokenizer.Tokenize(texts[i], model.ContextLength, out var length);
            truncated[i] = length > model.ContextLength;
        }

        return new TokenizedTexts(ids, truncated);
    }

    private static TextEmbedding[] Encode(ClipModel model, TokenizedTexts prompts)
    {
        var flat = model.Text.Encode(prompts.Ids);
        var dim = model.EmbeddingSize;
        var rows = new TextEmbedding[prompts.Ids.Length];
        // Each row gets its own array: the cache keeps rows individually, and a slice would pin the whole batch.
        for (var i = 0; i < rows.Length; i++)
            rows[i] = new TextEmbedding(flat.AsSpan(i * dim, dim).ToArray(), prompts.Ids[i].Length, prompts.Truncated[i]);
        return rows;
    }
}
