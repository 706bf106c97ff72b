using System.Numerics.Tensors;

namespace ClipService.Core.Scoring;

/// <summary>How a family turns cosine similarities into the scores a classification returns.</summary>
public interface IScoreFunction
{
    /// <summary>"softmax", "sigmoid" or "rank": the response's <c>scoring</c> field.</summary>
    string Name { get; }

    /// <summary>True when the scores of one image sum to 1 over its labels.</summary>
    bool SumsToOne { get; }

    /// <summary>One sentence for <c>GET /models</c> and the response: what a score means.</summary>
    string Description { get; }

    float? Scale { get; }

    float? Bias { get; }

    void Score(ReadOnlySpan<float> similarities, Span<float> scores);
}

/// <summary>CLIP's: softmax(scale · cos) over the labels scored together.</summary>
public sealed class SoftmaxScoring(float scale) : IScoreFunction
{
    public string Name => "softmax";
    public bool SumsToOne => true;
    public string Description => $"softmax over the labels of scale · cos (scale {Scale:G6}); the scores sum to 1";
    public float? Scale => scale;
    public float? Bias => null;

    public void Score(ReadOnlySpan<float> similarities, Span<float> scores) => ZeroShotScorer.Softmax(similarities, scale, scores);
}

/// <summary>SigLIP's: sigmoid(scale · cos + bias) for each label on its own; the scores do not sum to 1.</summary>
public sealed class SigmoidScoring(float scale, float bias) : IScoreFunction
{
    public string Name => "sigmoid";
    public bool SumsToOne => false;
    public string Description => $"an independent probability per label, sigmoid(scale · cos + bias) with the trained scale {Scale:G6} and bias {Bias:G6}; the scores do not sum to 1";
    public float? Scale => scale;
    public float? Bias => bias;

    public void Score(ReadOnlySpan<float> similarities, Span<float> scores)
    {
        TensorPrimitives.Multiply(similarities, scale, scores);
        TensorPrimitives.Add(scores, bias, scores);
        TensorPrimitives.Sigmoid(scores, scores);
    }
}

/// <summary>
/// A sigmoid-trained model whose folder records no trained bias: without it no probability is honest, so the
/// labels are ranked by cosine and the score is the cosine itself.
/// </summary>
public sealed class RankOnlyScoring : IScoreFunction
{
    public string Name => "rank";
    public bool SumsToOne => false;
    public string Description => "ranking only: the model folder records no trained logit bias (config.json trained_logit_bias; tools/import_model.py fills it), so each score is the cosine similarity, not a probability";
    public float? Scale => null;
    public float? Bias => null;

    public void Score(ReadOnlySpan<float> similarities, Span<float> scores) => similarities.CopyTo(scores);
}
