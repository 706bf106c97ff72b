using System.Numerics.Tensors;
using ClipService.Core.Encoders;

namespace ClipService.Core.Scoring;

/// <summary>One label's result: its score and raw cosine similarity.</summary>
/// <param name="Label">The label as given.</param>
/// <param name="Score">What the model's <see cref="IScoreFunction"/> gives: a softmax probability over all the labels
/// scored together (they sum to 1), an independent sigmoid probability, or the cosine for a model that only ranks.</param>
/// <param name="Similarity">Raw cosine similarity between the image and the label's (ensembled) prompt embedding.</param>
public sealed record LabelScore(string Label, float Score, float Similarity);

/// <summary>
/// Zero-shot scoring: cosine of the image with each label embedding, turned into scores by the model's
/// <see cref="IScoreFunction"/>; results sorted by score, ties kept in the caller's label order.
/// </summary>
public static class ZeroShotScorer
{
    /// <param name="image">L2-normalised image embedding.</param>
    /// <param name="labelEmbeddings">One L2-normalised row per label, in <paramref name="labels"/>' order.</param>
    public static LabelScore[] Rank(ReadOnlySpan<float> image, IReadOnlyList<ReadOnlyMemory<float>> labelEmbeddings, IReadOnlyList<string> labels, float logitScale) =>
        Rank(image, labelEmbeddings, labels, new SoftmaxScoring(logitScale));

    /// <inheritdoc cref="Rank(ReadOnlySpan{float}, IReadOnlyList{ReadOnlyMemory{float}}, IReadOnlyList{string}, float)"/>
    public static LabelScore[] Rank(ReadOnlySpan<float> image, IReadOnlyList<ReadOnlyMemory<float>> labelEmbeddings, IReadOnlyList<string> labels, IScoreFunction scoring)
    {
        if (labelEmbeddings.Count != labels.Count)
            throw new ArgumentException($"Expected {labels.Count} label rows, got {labelEmbeddings.Count}.", nameof(labelEmbeddings));
        var similarities = new float[labels.Count];
        for (var i = 0; i < similarities.Length; i++)
        {
            var row = labelEmbeddings[i].Span;
            if (row.Length != image.Length)
                throw new ArgumentException($"Label row {i} has {row.Length} values; the image embedding has {image.Length}.", nameof(labelEmbeddings));
            similarities[i] = TensorPrimitives.Dot(image, row);
        }

        return RankSimilarities(similarities, labels, scoring);
    }

    /// <param name="image">L2-normalised image embedding.</param>
    /// <param name="labelEmbeddings">Row-major [labels × dim], each row L2-normalised.</param>
    public static LabelScore[] Rank(ReadOnlySpan<float> image, ReadOnlySpan<float> labelEmbeddings, IReadOnlyList<string> labels, float logitScale) =>
        Rank(image, labelEmbeddings, labels, new SoftmaxScoring(logitScale));

    /// <inheritdoc cref="Rank(ReadOnlySpan{float}, ReadOnlySpan{float}, IReadOnlyList{string}, float)"/>
    public static LabelScore[] Rank(ReadOnlySpan<float> image, ReadOnlySpan<float> labelEmbeddings, IReadOnlyList<string> labels, IScoreFunction scoring)
    {
        var dim = image.Length;
        if (labelEmbeddings.Length != labels.Count * dim)
            throw new ArgumentException($"Expected {labels.Count} × {dim} label values, got {labelEmbeddings.Length}.", nameof(labelEmbeddings));
        var similarities = new float[labels.Count];
        for (var i = 0; i < similarities.Length; i++)
            similarities[i] = TensorPrimitives.Dot(image, labelEmbeddings.Slice(i * dim, dim));
        return RankSimilarities(similarities, labels, scoring);
    }

    private static LabelScore[] RankSimilarities(float[] similarities, IReadOnlyList<string> labels, IScoreFunction scoring)
    {
        if (similarities.Length == 0)
            return [];
        var scores = new float[similarities.Length];
        scoring.Score(similarities, scores);
        var ranked = new LabelScore[similarities.Length];
        for (var i = 0; i < ranked.Length; i++)
            ranked[i] = new LabelScore(labels[i], scores[i], similarities[i]);
        // A stable sort keeps equal scores in request order.
        return [.. ranked.OrderByDescending(r => r.Score)];
    }

    /// <summary>softmax(scale × logits), computed as exp(x − max) / Σ so large scales cannot overflow.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, float scale, Span<float> destination)
    {
        TensorPrimitives.Multiply(logits, scale, destination);
        var max = TensorPrimitives.Max(destination);
        TensorPrimitives.Subtract(destination, max, destination);
        TensorPrimitives.Exp(destination, destination);
        var sum = TensorPrimitives.Sum(destination);
        TensorPrimitives.Divide(destination, sum, destination);
    }

    /// <summary>
    /// Prompt ensembling (CLIP §3.1.4): one label's template embeddings, already normalised, are averaged and the
    /// mean renormalised into <paramref name="destination"/>.
    /// </summary>
    /// <param name="promptEmbeddings">Row-major [templates × dim]: the label in each template.</param>
    public static void Ensemble(ReadOnlySpan<float> promptEmbeddings, int templates, Span<float> destination)
    {
        var dim = destination.Length;
        if (templates < 1 || promptEmbeddings.Length != templates * dim)
            throw new ArgumentException($"Expected {templates} × {dim} values, got {promptEmbeddings.Length}.", nameof(promptEmbeddings));
        promptEmbeddings[..dim].CopyTo(destination);
        for (var t = 1; t < templates; t++)
            TensorPrimitives.Add(destination, promptEmbeddings.Slice(t * dim, dim), destination);
        OnnxGraph.NormaliseInPlace(destination);
    }
}
