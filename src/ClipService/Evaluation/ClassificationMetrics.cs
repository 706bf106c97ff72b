namespace ClipService.Evaluation;

/// <summary>One classified image, by class index.</summary>
/// <param name="InTopK">Whether the true class is among the best k labels.</param>
/// <param name="Confidence">The best label's score.</param>
public readonly record struct Outcome(int Truth, int Predicted, bool InTopK, double Confidence);

/// <summary>
/// Zero-shot classification metrics as LAION's clip_benchmark reports them: top-1, top-k, mean per-class recall
/// (scikit-learn's balanced accuracy: the mean recall over the classes that have images), per-class precision,
/// recall and F1, the confusion matrix, expected calibration error, and seeded bootstrap intervals.
/// </summary>
public static class ClassificationMetrics
{
    public const int CalibrationBins = 15;
    public const int BootstrapResamples = 1000;
    public const int MostConfusedPairs = 20;
    public const int ExamplesPerPair = 8;

    public static double Top1(ReadOnlySpan<Outcome> outcomes)
    {
        if (outcomes.IsEmpty)
            return 0;
        var right = 0;
        foreach (var o in outcomes)
            right += o.Truth == o.Predicted ? 1 : 0;
        return (double)right / outcomes.Length;
    }

    public static double TopK(ReadOnlySpan<Outcome> outcomes)
    {
        if (outcomes.IsEmpty)
            return 0;
        var right = 0;
        foreach (var o in outcomes)
            right += o.InTopK ? 1 : 0;
        return (double)right / outcomes.Length;
    }

    /// <summary>matrix[true][predicted].</summary>
    public static int[][] Confusion(ReadOnlySpan<Outcome> outcomes, int classes)
    {
        var matrix = new int[classes][];
        for (var i = 0; i < classes; i++)
            matrix[i] = new int[classes];
        foreach (var o in outcomes)
            matrix[o.Truth][o.Predicted]++;
        return matrix;
    }

    public static double MeanPerClassRecall(int[][] confusion)
    {
        double sum = 0;
        var present = 0;
        for (var i = 0; i < confusion.Length; i++)
        {
            var support = confusion[i].Sum();
            if (support == 0)
                continue;
            sum += (double)confusion[i][i] / support;
            present++;
        }

        return present == 0 ? 0 : sum / present;
    }

    /// <summary>Precision is 0 for a class never predicted, F1 is 0 when precision and recall both are (scikit-learn's zero_division=0).</summary>
    public static List<ClassMetrics> PerClass(int[][] confusion, IReadOnlyList<string> labels)
    {
        var result = new List<ClassMetrics>(labels.Count);
        for (var c = 0; c < labels.Count; c++)
        {
            var support = confusion[c].Sum();
            var predicted = 0;
            for (var t = 0; t < confusion.Length; t++)
                predicted += confusion[t][c];
            var hits = confusion[c][c];
            var precision = predicted == 0 ? 0 : (double)hits / predicted;
            var recall = support == 0 ? 0 : (double)hits / support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            result.Add(new ClassMetrics(labels[c], precision, recall, f1, support));
        }

        return result;
    }

    /// <summary>Equal-width bins over [0, 1]: (i/15, (i+1)/15], the first also holding 0.</summary>
    public static List<ReliabilityBin> Reliability(ReadOnlySpan<Outcome> outcomes)
    {
        var counts = new int[CalibrationBins];
        var right = new int[CalibrationBins];
        var confidence = new double[CalibrationBins];
        foreach (var o in outcomes)
        {
            var bin = Bin(o.Confidence);
            counts[bin]++;
            right[bin] += o.Truth == o.Predicted ? 1 : 0;
            confidence[bin] += o.Confidence;
        }

        var bins = new List<ReliabilityBin>(CalibrationBins);
        for (var b = 0; b < CalibrationBins; b++)
            bins.Add(new ReliabilityBin((double)b / CalibrationBins, (double)(b + 1) / CalibrationBins, counts[b],
                counts[b] == 0 ? 0 : (double)right[b] / counts[b], counts[b] == 0 ? 0 : confidence[b] / counts[b]));
        return bins;
    }

    /// <summary>Σ over bins of (bin's share of images) × |accuracy − mean confidence|.</summary>
    public static double ExpectedCalibrationError(IReadOnlyList<ReliabilityBin> bins)
    {
        var total = bins.Sum(b => b.Count);
        return total == 0 ? 0 : bins.Sum(b => (double)b.Count / total * Math.Abs(b.Accuracy - b.Confidence));
    }

    private static int Bin(double confidence) =>
        confidence <= 0 ? 0 : Math.Clamp((int)Math.Ceiling(confidence * CalibrationBins) - 1, 0, CalibrationBins - 1);

    /// <summary>
    /// Percentile intervals (2.5%, 97.5%) of top-1 and mean per-class recall over <see cref="BootstrapResamples"/>
    /// resamples of the images with replacement. The resamples depend only on the seed and the number of images, so
    /// runs over the same images draw the same ones.
    /// </summary>
    public static ConfidenceIntervals Bootstrap(ReadOnlySpan<Outcome> outcomes, int classes, int seed)
    {
        if (outcomes.IsEmpty)
            return new ConfidenceIntervals(new Interval(0, 0), new Interval(0, 0));
        var random = new Random(seed);
        var top1 = new double[BootstrapResamples];
        var balanced = new double[BootstrapResamples];
        var support = new int[classes];
        var hits = new int[classes];
        for (var r = 0; r < BootstrapResamples; r++)
        {
            Array.Clear(support);
            Array.Clear(hits);
            var right = 0;
            for (var i = 0; i < outcomes.Length; i++)
            {
                var o = outcomes[random.Next(outcomes.Length)];
                support[o.Truth]++;
                if (o.Truth == o.Predicted)
                {
                    hits[o.Truth]++;
                    right++;
                }
            }

            top1[r] = (double)right / outcomes.Length;
            double sum = 0;
            var present = 0;
            for (var c = 0; c < classes; c++)
            {
                if (support[c] == 0)
                    continue;
                sum += (double)hits[c] / support[c];
                present++;
            }

            balanced[r] = sum / present;
        }

        return new ConfidenceIntervals(Percentiles(top1), Percentiles(balanced));
    }

    /// <summary>
    /// A paired bootstrap of top-1(b) − top-1(a) over the same images (the same index in both is the same image):
    /// each resample draws images, not runs, so what the two runs share cancels out.
    /// </summary>
    public static (double Difference, Interval Ci95) PairedTop1Difference(ReadOnlySpan<Outcome> a, ReadOnlySpan<Outcome> b, int seed)
    {
        if (a.Length != b.Length)
            throw new ArgumentException("A paired comparison needs the same images in both runs.", nameof(b));
        if (a.IsEmpty)
            return (0, new Interval(0, 0));
        var delta = new int[a.Length];
        for (var i = 0; i < a.Length; i++)
            delta[i] = (b[i].Truth == b[i].Predicted ? 1 : 0) - (a[i].Truth == a[i].Predicted ? 1 : 0);
        var random = new Random(seed);
        var differences = new double[BootstrapResamples];
        for (var r = 0; r < BootstrapResamples; r++)
        {
            long sum = 0;
            for (var i = 0; i < delta.Length; i++)
                sum += delta[random.Next(delta.Length)];
            differences[r] = (double)sum / delta.Length;
        }

        return ((double)delta.Sum() / delta.Length, Percentiles(differences));
    }

    // numpy's default percentile (linear interpolation between the closest ranks).
    private static Interval Percentiles(double[] values)
    {
        Array.Sort(values);
        return new Interval(Percentile(values, 2.5), Percentile(values, 97.5));
    }

    internal static double Percentile(double[] sorted, double percent)
    {
        var rank = percent / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (rank - low) * (sorted[high] - sorted[low]);
    }

    /// <summary>The off-diagonal cells, largest first (ties by true then predicted label), with up to 8 images each.</summary>
    public static List<ConfusedPair> MostConfused(int[][] confusion, IReadOnlyList<string> labels, IReadOnlyList<Prediction> predictions)
    {
        var pairs = new List<(int Truth, int Predicted, int Count)>();
        for (var t = 0; t < confusion.Length; t++)
        for (var p = 0; p < confusion.Length; p++)
            if (t != p && confusion[t][p] > 0)
                pairs.Add((t, p, confusion[t][p]));
        return pairs
            .OrderByDescending(x => x.Count).ThenBy(x => labels[x.Truth], StringComparer.Ordinal).ThenBy(x => labels[x.Predicted], StringComparer.Ordinal)
            .Take(MostConfusedPairs)
            .Select(x => new ConfusedPair(labels[x.Truth], labels[x.Predicted], x.Count,
                [.. predictions.Where(p => p.Label == labels[x.Truth] && p.Predicted == labels[x.Predicted]).Select(p => p.Path).Take(ExamplesPerPair)]))
            .ToList();
    }
}
