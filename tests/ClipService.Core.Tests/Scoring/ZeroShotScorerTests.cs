using System.Numerics.Tensors;
using ClipService.Core.Scoring;

namespace ClipService.Core.Tests.Scoring;

public sealed class ZeroShotScorerTests
{
    private static float[] Unit(params float[] v)
    {
        var norm = TensorPrimitives.Norm(v);
        return [.. v.Select(x => x / norm)];
    }

    [Fact]
    public void Ranks_by_score_with_probabilities_summing_to_one_and_raw_cosines_kept()
    {
        var image = Unit(1, 0, 0);
        float[] labels = [.. Unit(0, 1, 0), .. Unit(1, 0.1f, 0), .. Unit(1, 1, 0)];
        var ranked = ZeroShotScorer.Rank(image, labels, ["far", "near", "middle"], 100f);

        Assert.Equal(["near", "middle", "far"], ranked.Select(r => r.Label));
        Assert.Equal(1.0, ranked.Sum(r => r.Score), 5);
        Assert.Equal(1 / MathF.Sqrt(1.01f), ranked[0].Similarity, 5);
        Assert.Equal(0f, ranked[2].Similarity, 5);
        // softmax(100 * cos): the ratio of two scores is exp(100 * Δcos).
        Assert.Equal(100 * (ranked[0].Similarity - ranked[1].Similarity), Math.Log(ranked[0].Score / ranked[1].Score), 2);
    }

    [Fact]
    public void Softmax_does_not_overflow_at_large_scales()
    {
        var scores = new float[3];
        ZeroShotScorer.Softmax([1f, 0.99f, -1f], 1000f, scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
        Assert.Equal(1.0, scores.Sum(), 5);
        Assert.True(scores[0] > 0.99f);
    }

    [Fact]
    public void Equal_scores_keep_the_request_order()
    {
        var image = Unit(1, 0);
        float[] labels = [.. Unit(0, 1), .. Unit(0, 1), .. Unit(0, 1)];
        var ranked = ZeroShotScorer.Rank(image, labels, ["b", "a", "c"], 100f);
        Assert.Equal(["b", "a", "c"], ranked.Select(r => r.Label));
        Assert.All(ranked, r => Assert.Equal(1 / 3f, r.Score, 5));
    }

    [Fact]
    public void Ensembling_averages_normalised_template_embeddings_and_renormalises()
    {
        // One label, two templates: the mean of two unit vectors, renormalised, bisects them.
        float[] prompts = [.. Unit(1, 0), .. Unit(0, 1)];
        var ensembled = new float[2];
        ZeroShotScorer.Ensemble(prompts, templates: 2, ensembled);
        Assert.Equal(1 / MathF.Sqrt(2), ensembled[0], 5);
        Assert.Equal(1 / MathF.Sqrt(2), ensembled[1], 5);
    }

    [Fact]
    public void Templates_put_the_label_at_the_placeholder()
    {
        Assert.Equal("a photo of a red circle.", PromptTemplates.Apply(PromptTemplates.Default, "red circle"));
        Assert.Equal(7, PromptTemplates.ImageNet7.Count);
        Assert.All(PromptTemplates.ImageNet7, t => Assert.True(PromptTemplates.IsValid(t)));
        Assert.False(PromptTemplates.IsValid("no placeholder"));
    }
}

public sealed class PromptTemplateSetTests
{
    [Fact]
    public void Imagenet80_is_the_80_distinct_templates_and_is_named()
    {
        Assert.Equal(80, PromptTemplates.ImageNet80.Count);
        Assert.Equal(80, PromptTemplates.ImageNet80.Distinct(StringComparer.Ordinal).Count());
        Assert.All(PromptTemplates.ImageNet80, t => Assert.True(PromptTemplates.IsValid(t), t));
        Assert.Same(PromptTemplates.ImageNet80, PromptTemplates.Named["imagenet80"]);
        Assert.Equal("a bad photo of a {}.", PromptTemplates.ImageNet80[0]);
        // The 7-template subset OpenAI found afterwards comes from the same 80.
        Assert.Subset(PromptTemplates.ImageNet80.ToHashSet(), PromptTemplates.ImageNet7.ToHashSet());
    }

    [Fact]
    public void Ranking_rows_gives_the_same_result_as_ranking_the_flat_matrix()
    {
        float[] image = [0.6f, 0.8f, 0f];
        float[] flat = [1, 0, 0, 0, 1, 0, 0, 0, 1];
        ReadOnlyMemory<float>[] rows = [flat.AsMemory(0, 3), flat.AsMemory(3, 3), flat.AsMemory(6, 3)];
        var fromRows = ZeroShotScorer.Rank(image, rows, ["x", "y", "z"], 10f);
        var fromFlat = ZeroShotScorer.Rank(image, flat, ["x", "y", "z"], 10f);
        Assert.Equal(fromFlat, fromRows);
        Assert.Equal(["y", "x", "z"], fromRows.Select(r => r.Label));
        Assert.Throws<ArgumentException>(() => ZeroShotScorer.Rank(image, rows[..2], ["x", "y", "z"], 10f));
    }
}
