using System.Numerics.Tensors;
using ClipService.Core.Encoders;

namespace ClipService.Core.Scoring;

/// <summary>One label's result: softmax probability and raw cosine similarity.</summary>
public sealed record LabelScore(string Label, float Score, float Similarity);

/// <summary>
/// Zero-shot scoring: cosine of the image with each label embedding, times the logit scale, softmaxed with
/// the maximum subtracted first; results sorted by score, ties kept in the caller's label order.
/// </summary>
public static class ZeroShotScorer
{
    /// <param name="image">L2-normalised image embedding.</param>
    /// <param name="labelEmbeddings">Row-major [labels × dim], each row L2-normalised.</param>
    public static LabelScore[] Rank(ReadOnlySpan<float> image, ReadOnlySpan<float> labelEmbeddings, IReadOnlyList<string> labels, float logitScale)
    {
        var count = labels.Count;
        var dim = image.Length;
        if (count == 0)
            return [];
        if (labelEmbeddings.Length != count * dim)
            throw new ArgumentException($"Expected {count} × {dim} label values, got {labelEmbeddings.Length}.", nameof(labelEmbeddings));

        var similarities = new float[count];
        for (var i = 0; i < count; i++)
            similarities[i] = TensorPrimitives.Dot(image, labelEmbeddings.Slice(i * dim, dim));

        var scores = new float[count];
        Softmax(similarities, logitScale, scores);
        var ranked = new LabelScore[count];
        for (var i = 0; i < count; i++)
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
    /// Prompt ensembling (CLIP §3.1.4): each label's template embeddings, already normalised, are averaged
    /// and the mean renormalised.
    /// </summary>
    /// <param name="promptEmbeddings">[labels × templates × dim], label-major.</param>
    public static float[] Ensemble(ReadOnlySpan<float> promptEmbeddings, int labels, int templates, int dim)
    {
        if (promptEmbeddings.Length != labels * templates * dim)
            throw new ArgumentException($"Expected {labels} × {templates} × {dim} values.", nameof(promptEmbeddings));
        var result = new float[labels * dim];
        for (var l = 0; l < labels; l++)
        {
            var target = result.AsSpan(l * dim, dim);
            for (var t = 0; t < templates; t++)
                TensorPrimitives.Add(target, promptEmbeddings.Slice((l * templates + t) * dim, dim), target);
            OnnxGraph.NormaliseInPlace(target);
        }

        return result;
    }
}
