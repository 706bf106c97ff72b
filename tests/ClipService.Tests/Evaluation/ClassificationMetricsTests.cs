using ClipService.Evaluation;

namespace ClipService.Tests.Evaluation;

/// <summary>The metrics against figures worked out by hand.</summary>
public sealed class ClassificationMetricsTests
{
    // Truth → predicted: class 0 right twice, once taken for 1; class 1 right once, once taken for 0; class 2 right
    // twice, once taken for 1. Right answers at confidence 0.9, wrong ones at 0.55.
    private static readonly Outcome[] Mixed =
    [
        new(0, 0, true, 0.9), new(0, 0, true, 0.9), new(0, 1, true, 0.55),
        new(1, 1, true, 0.9), new(1, 0, false, 0.55),
        new(2, 2, true, 0.9), new(2, 2, true, 0.9), new(2, 1, false, 0.55),
    ];

    private static readonly string[] Labels = ["cat", "dog", "fox"];

    [Fact]
    public void Top1_top_k_and_the_confusion_matrix()
    {
        Assert.Equal(5.0 / 8, ClassificationMetrics.Top1(Mixed));
        Assert.Equal(6.0 / 8, ClassificationMetrics.TopK(Mixed));
        var confusion = ClassificationMetrics.Confusion(Mixed, 3);
        Assert.Equal([[2, 1, 0], [1, 1, 0], [0, 1, 2]], confusion);
    }

    [Fact]
    public void Mean_per_class_recall_averages_the_classes_with_images()
    {
        var confusion = ClassificationMetrics.Confusion(Mixed, 3);
        Assert.Equal((2.0 / 3 + 1.0 / 2 + 2.0 / 3) / 3, ClassificationMetrics.MeanPerClassRecall(confusion), 12);
        // A class with no images (index 3) is left out, as scikit-learn's balanced accuracy does.
        var withEmpty = ClassificationMetrics.Confusion(Mixed, 4);
        Assert.Equal((2.0 / 3 + 1.0 / 2 + 2.0 / 3) / 3, ClassificationMetrics.MeanPerClassRecall(withEmpty), 12);
    }

    [Fact]
    public void Per_class_precision_recall_f1_and_support()
    {
        var perClass = ClassificationMetrics.PerClass(ClassificationMetrics.Confusion(Mixed, 3), Labels);
        Assert.Equal(new ClassMetrics("cat", 2.0 / 3, 2.0 / 3, 2.0 / 3, 3), perClass[0]);
        Assert.Equal("dog", perClass[1].Label);
        Assert.Equal(1.0 / 3, perClass[1].Precision, 12);
        Assert.Equal(0.5, perClass[1].Recall, 12);
        Assert.Equal(0.4, perClass[1].F1, 12);
        Assert.Equal(2, perClass[1].Support);
        Assert.Equal(1.0, perClass[2].Precision, 12);
        Assert.Equal(0.8, perClass[2].F1, 12);

        // Never predicted and never right: precision and F1 are 0, not NaN.
        var never = ClassificationMetrics.PerClass(ClassificationMetrics.Confusion([new Outcome(0, 1, false, 0.5), new Outcome(1, 1, true, 0.5)], 2), ["a", "b"]);
        Assert.Equal(new ClassMetrics("a", 0, 0, 0, 1), never[0]);
    }

    [Fact]
    public void Expected_calibration_error_over_15_bins()
    {
        var bins = ClassificationMetrics.Reliability(Mixed);
        Assert.Equal(15, bins.Count);
        Assert.Equal(5, bins[13].Count); // 0.9 is in (13/15, 14/15]
        Assert.Equal(1.0, bins[13].Accuracy);
        Assert.Equal(0.9, bins[13].Confidence, 12);
        Assert.Equal(3, bins[8].Count); // 0.55 is in (8/15, 9/15]
        Assert.Equal(0.0, bins[8].Accuracy);
        Assert.Equal(8, bins.Sum(b => b.Count));
        Assert.Equal(5.0 / 8 * 0.1 + 3.0 / 8 * 0.55, ClassificationMetrics.ExpectedCalibrationError(bins), 12);

        var edges = ClassificationMetrics.Reliability([new Outcome(0, 0, true, 0), new Outcome(0, 0, true, 1), new Outcome(0, 0, true, 1.0 / 15)]);
        Assert.Equal(2, edges[0].Count); // 0 and the upper edge 1/15 are both in the first bin
        Assert.Equal(1, edges[14].Count);
    }

    [Fact]
    public void Bootstrap_intervals_are_seeded_and_hold_the_estimate()
    {
        var many = Enumerable.Range(0, 200).Select(i => new Outcome(i % 4, i % 3 == 0 ? (i + 1) % 4 : i % 4, true, 0.7)).ToArray();
        var first = ClassificationMetrics.Bootstrap(many, 4, seed: 11);
        Assert.Equal(first, ClassificationMetrics.Bootstrap(many, 4, seed: 11));
        Assert.NotEqual(first, ClassificationMetrics.Bootstrap(many, 4, seed: 12));
        var top1 = ClassificationMetrics.Top1(many);
        Assert.InRange(top1, first.Top1.Low, first.Top1.High);
        Assert.True(first.Top1.High - first.Top1.Low is > 0.05 and < 0.3, $"{first.Top1}");

        var allRight = Enumerable.Range(0, 20).Select(i => new Outcome(i % 2, i % 2, true, 0.9)).ToArray();
        Assert.Equal(new ConfidenceIntervals(new Interval(1, 1), new Interval(1, 1)), ClassificationMetrics.Bootstrap(allRight, 2, 0));
    }

    [Fact]
    public void Paired_bootstrap_tells_a_real_difference_from_none()
    {
        var a = Enumerable.Range(0, 100).Select(i => new Outcome(0, i < 50 ? 0 : 1, true, 0.5)).ToArray();
        var same = ClassificationMetrics.PairedTop1Difference(a, a, 0);
        Assert.Equal((0.0, new Interval(0, 0)), same);

        var better = a.Select((o, i) => i < 80 ? o with { Predicted = 0 } : o).ToArray(); // 30 more right
        var (difference, interval) = ClassificationMetrics.PairedTop1Difference(a, better, 0);
        Assert.Equal(0.3, difference, 12);
        Assert.True(interval.Low > 0, $"{interval}");

        Assert.Throws<ArgumentException>(() => ClassificationMetrics.PairedTop1Difference(a, a.AsSpan(0, 10), 0));
    }

    [Fact]
    public void Percentile_interpolates_between_ranks_as_numpy_does()
    {
        double[] sorted = [1, 2, 3, 4, 5];
        Assert.Equal(1.1, ClassificationMetrics.Percentile(sorted, 2.5), 12);
        Assert.Equal(4.9, ClassificationMetrics.Percentile(sorted, 97.5), 12);
        Assert.Equal(3, ClassificationMetrics.Percentile(sorted, 50), 12);
    }

    [Fact]
    public void Most_confused_pairs_come_largest_first_with_their_images()
    {
        var predictions = new List<Prediction>
        {
            new("a/1.jpg", "cat", "dog", 0.5, ["dog"], 1), new("a/2.jpg", "cat", "dog", 0.5, ["dog"], 1),
            new("b/1.jpg", "dog", "cat", 0.5, ["cat"], 1), new("a/3.jpg", "cat", "cat", 0.5, ["cat"], 1),
        };
        int[][] confusion = [[1, 2], [1, 0]];
        var pairs = ClassificationMetrics.MostConfused(confusion, ["cat", "dog"], predictions);
        Assert.Equal(2, pairs.Count);
        Assert.Equal(new[] { "a/1.jpg", "a/2.jpg" }, pairs[0].Examples);
        Assert.Equal(("cat", "dog", 2), (pairs[0].True, pairs[0].Predicted, pairs[0].Count));
        Assert.Equal(("dog", "cat", 1), (pairs[1].True, pairs[1].Predicted, pairs[1].Count));
    }

    [Fact]
    public void Retrieval_recall_counts_strictly_better_candidates()
    {
        float[][] images = [[1, 0], [0, 1], [0.6f, 0.8f]];
        // Caption 0 is image 0's; caption 1 image 1's; caption 2 image 2's, but it points more at image 1.
        float[][] captions = [[1, 0], [0, 1], [0.28f, 0.96f]];
        var (imageToText, textToImage, _) = RetrievalMetrics.Recall(images, captions, [0, 1, 2]);
        // Image 2 is nearer caption 2 (0.936) than caption 1 (0.8): found at 1. Caption 2 is nearer image 1 (0.96) than image 2 (0.936): found at 2.
        Assert.Equal(new RecallAtK(1, 1, 1), imageToText);
        Assert.Equal(new RecallAtK(2.0 / 3, 1, 1), textToImage);
    }

    [Fact]
    public void Csv_reads_quoted_fields_with_commas_quotes_and_line_breaks()
    {
        var rows = Csv.Parse("\uFEFFpath,label\r\n\"a,b.jpg\",\"say \"\"hi\"\"\"\n\"two\nlines.png\",红色\n\n");
        Assert.Equal(3, rows.Count);
        Assert.Equal(["path", "label"], rows[0]);
        Assert.Equal(["a,b.jpg", "say \"hi\""], rows[1]);
        Assert.Equal(["two\nlines.png", "红色"], rows[2]);
        Assert.Equal("\"say \"\"hi\"\"\"", Csv.Field("say \"hi\""));
        Assert.Equal("plain", Csv.Field("plain"));
    }
}
