using ClipService.Core.Encoders;
using ClipService.Core.Models;
using ClipService.Core.Scoring;
using ClipService.Diagnostics;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace ClipService.Inference;

/// <summary>
/// The service's encoder work: images through the model's <see cref="ImageBatcher"/> (batched across requests),
/// texts through the <see cref="TextEmbeddingCache"/> (a request's misses tokenised on its own thread, then encoded in
/// runs of at most <see cref="BatchingOptions.MaxTextBatchSize"/> prompts through the <see cref="InferenceGate"/>;
/// repeated prompts and label ensembles not encoded again).
/// </summary>
public sealed class ClipInference(
    ImageBatchers batchers,
    TextEmbeddingCache cache,
    InferenceGate gate,
    IOptions<InferenceOptions> inference,
    IOptions<BatchingOptions> batching,
    BackgroundTextEncoders background,
    ClipMetrics metrics) : IClipInference
{
    private TimeSpan Timeout => TimeSpan.FromSeconds(inference.Value.RequestTimeoutSeconds);

    /// <summary>Prompts per background run: what a request arriving during one may have to wait for.</summary>
    internal const int BackgroundRunSize = 8;

    private int TextBatchSize => batching.Value.MaxTextBatchSize;

    public Task<float[]> EmbedImageAsync(ClipModel model, ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken) =>
        batchers.For(model).EncodeAsync(encodedImage, Timeout, cancellationToken);

    public async Task<TextEmbeddings> EmbedTextsAsync(ClipModel model, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var keys = texts.Select(t => TextEmbeddingCache.PromptKey(model.Name, t)).ToList();
        var rows = await cache.GetOrComputeAsync(keys, async (missing, token) =>
        {
            var prompts = Tokenize(model, [.. missing.Select(i => texts[i])], token);
            var flat = await EncodeInRunsAsync(model, prompts, EncoderPriority.Request, null, token);
            var dim = model.EmbeddingSize;
            var result = new TextEmbedding[prompts.Ids.Length];
            // Each row gets its own array: the cache keeps rows individually, and a slice would pin the whole run.
            for (var i = 0; i < result.Length; i++)
                result[i] = new TextEmbedding(flat.AsSpan(i * dim, dim).ToArray(), prompts.Ids[i].Length, prompts.Truncated[i]);
            return result;
        }, cancellationToken);
        return new TextEmbeddings(rows);
    }

    public async Task<TextEmbeddings> EmbedLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, CancellationToken cancellationToken)
    {
        if (templates.Count == 1)
            return await EmbedTextsAsync(model, [.. labels.Select(l => PromptTemplates.Apply(templates[0], l))], cancellationToken);

        var keys = labels.Select(l => TextEmbeddingCache.EnsembleKey(model.Name, templates, l)).ToList();
        var rows = await cache.GetOrComputeAsync(keys,
            (missing, token) => EnsembleAsync(model, [.. missing.Select(i => labels[i])], templates, EncoderPriority.Request, null, token), cancellationToken);
        return new TextEmbeddings(rows);
    }

    public async Task<TextEmbeddings> ComputeLabelsAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, EncoderPriority priority,
        IProgress<int>? progress, CancellationToken cancellationToken) =>
        new(await EnsembleAsync(model, labels, templates, priority, progress, cancellationToken));

    /// <summary>One text run, one image decode (loads Skia's native library), and one image run at each
    /// power-of-two batch size up to the largest batch.</summary>
    public async Task WarmUpAsync(ClipModel model, CancellationToken cancellationToken)
    {
        await gate.RunAsync(() => model.EncodeTexts([PromptTemplates.Apply(model.DefaultTemplate, "warm-up")]), cancellationToken);
        var largest = batching.Value.BatchSizeFor(model.Image.Provider);
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
    /// Each label in every template, each label's prompts ensembled into its own row. Labels are taken a few at a
    /// time (so a large label set is never tokenised at once) and their prompts encoded in runs.
    /// </summary>
    private async Task<TextEmbedding[]> EnsembleAsync(ClipModel model, IReadOnlyList<string> labels, IReadOnlyList<string> templates, EncoderPriority priority,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var result = new TextEmbedding[labels.Count];
        var labelsPerGroup = Math.Max(1, TextBatchSize / templates.Count);
        var dim = model.EmbeddingSize;
        var block = templates.Count * dim;
        for (var first = 0; first < labels.Count; first += labelsPerGroup)
        {
            var count = Math.Min(labelsPerGroup, labels.Count - first);
            var texts = new List<string>(count * templates.Count);
            for (var l = first; l < first + count; l++)
                texts.AddRange(templates.Select(t => PromptTemplates.Apply(t, labels[l])));
            var prompts = Tokenize(model, texts, cancellationToken);
            var flat = await EncodeInRunsAsync(model, prompts, priority, progress, cancellationToken);
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

    /// <summary>The prompts' embeddings, one row after another, from runs of at most the text batch size: between
    /// runs image batches take their turn at the encoder, and a request that has gone or passed its deadline stops.
    /// Background work runs only while the encoder is idle, in runs of at most <see cref="BackgroundRunSize"/>, on the
    /// model's single-threaded background encoder (<see cref="BackgroundTextEncoders"/>) outside the gate: one core
    /// at most, and a request arriving meanwhile does not wait for it.</summary>
    private async Task<float[]> EncodeInRunsAsync(ClipModel model, TokenizedTexts prompts, EncoderPriority priority, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var dim = model.EmbeddingSize;
        var all = prompts.Ids;
        var runSize = priority == EncoderPriority.Background ? Math.Min(BackgroundRunSize, TextBatchSize) : TextBatchSize;
        async Task<float[]> RunAsync(int[][] run)
        {
            float[] rows;
            if (priority == EncoderPriority.Background)
            {
                await gate.WhenIdleAsync(cancellationToken);
                rows = EncodeRun(model, background.For(model), run);
            }
            else
            {
                rows = await gate.RunAsync(() => EncodeRun(model, model.Text, run), cancellationToken);
            }

            progress?.Report(run.Length);
            return rows;
        }

        if (all.Length <= runSize)
            return await RunAsync(all);
        var flat = new float[all.Length * dim];
        for (var first = 0; first < all.Length; first += runSize)
        {
            var rows = await RunAsync(all[first..Math.Min(all.Length, first + runSize)]);
            rows.CopyTo(flat.AsSpan(first * dim));
        }

        return flat;
    }

    private float[] EncodeRun(ClipModel model, TextEncoder encoder, int[][] ids)
    {
        using var call = metrics.TextBatch(model.Name, ids.Length);
        return encoder.Encode(ids);
    }

    private sealed record TokenizedTexts(int[][] Ids, bool[] Truncated);

    // On the request's own thread, outside the gate: tokenising needs no encoder slot. Texts are bounded by
    // Clip:MaxLabelLength; a request that has gone stops between them.
    private static TokenizedTexts Tokenize(ClipModel model, List<string> texts, CancellationToken cancellationToken)
    {
        var ids = new int[texts.Count][];
        var truncated = new bool[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ids[i] = model.Tokenizer.Tokenize(texts[i], model.ContextLength, out truncated[i]);
        }

        return new TokenizedTexts(ids, truncated);
    }
}
