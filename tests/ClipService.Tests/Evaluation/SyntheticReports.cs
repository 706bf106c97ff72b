using ClipService.Evaluation;

namespace ClipService.Tests.Evaluation;

/// <summary>Deterministic classification reports of any size, consistent within themselves (the matrix sums to the
/// images, the metrics follow from it), with labels that need encoding.</summary>
internal static class SyntheticReports
{
    public const string HostileLabel = "<b>&\"x\"";
    public const string ChineseLabel = "金毛寻回犬";

    public static EvaluationReport Classification(int classes, int images, int runs = 2, int examplesPerPair = 8, bool partial = false)
    {
        var labels = Enumerable.Range(0, classes).Select(Label).ToArray();
        var started = new DateTimeOffset(2025, 3, 14, 9, 26, 53, TimeSpan.FromHours(1));
        var classificationRuns = Enumerable.Range(0, runs)
            .Select(r => Run($"run{r + 1}", labels, images, new Random(r + 1), accuracy: 0.6 + (0.1 * r), examplesPerPair)).ToList();
        var comparisons = Enumerable.Range(1, Math.Max(runs - 1, 0))
            .Select(r => new RunComparison("run1", $"run{r + 1}", classificationRuns[r].Top1 - classificationRuns[0].Top1,
                new Interval(classificationRuns[r].Top1 - classificationRuns[0].Top1 - 0.02, classificationRuns[r].Top1 - classificationRuns[0].Top1 + 0.02),
                Significant: r % 2 == 1)).ToList();
        return new EvaluationReport(
            ServiceVersion: "1.4.0+abc1234",
            Command: "clipservice evaluate --data 'photos & <more>' --models clip-vit-b32 --templates default,imagenet80",
            Mode: "in-process",
            Url: null,
            Task: "classify",
            Data: "/data/photos & <more>",
            Started: started,
            Finished: started.AddSeconds(754),
            Partial: partial,
            Images: images + 2,
            TopK: 5,
            Seed: 42,
            Models: [new EvaluatedModel("clip-vit-b32", "clip", "softmax", "CPU",
                [new FileDigest("image_encoder.onnx", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 351_234_567),
                 new FileDigest("tokenizer.json", "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752", 2_224_003)])],
            Runs: classificationRuns,
            Comparisons: comparisons,
            RetrievalRuns: [new RetrievalRun("run1", "clip-vit-b32", "clip", "none", 12, 12,
                new RecallAtK(0.5, 0.833, 1), new RecallAtK(0.583, 0.917, 1), 31.4, new Latency(28.1, 40.6), 0.4)],
            Skipped: [new SkippedImage("broken/corrupt.jpg", "The image header is truncated or corrupt (InvalidInput)."),
                      new SkippedImage("notes/<readme>.txt", "Unsupported format & not an image")]);
    }

    public static string Label(int i) => i switch
    {
        0 => HostileLabel,
        1 => ChineseLabel,
        _ => $"class {i:000}",
    };

    // Mistakes go mostly to the next class, so the matrix has structure to order by.
    private static ClassificationRun Run(string id, string[] labels, int images, Random random, double accuracy, int examplesPerPair)
    {
        var n = labels.Length;
        var matrix = new int[n][];
        for (var i = 0; i < n; i++)
            matrix[i] = new int[n];
        var examples = new Dictionary<(int, int), List<string>>();
        var bins = new (int Count, int Right, double Confidence)[15];
        for (var image = 0; image < images; image++)
        {
            var truth = image % n;
            var classAccuracy = accuracy * (0.6 + (0.4 * (truth % 7) / 6.0));
            var right = random.NextDouble() < classAccuracy;
            var predicted = right ? truth : random.NextDouble() < 0.7 ? (truth + 1) % n : random.Next(n);
            matrix[truth][predicted]++;
            if (predicted != truth)
            {
                if (!examples.TryGetValue((truth, predicted), out var paths))
                    examples[(truth, predicted)] = paths = [];
                if (paths.Count < examplesPerPair)
                    paths.Add($"{labels[truth]}/img{image:00000}.jpg");
            }

            var confidence = Math.Clamp((right ? 0.75 : 0.45) + ((random.NextDouble() - 0.5) * 0.5), 0, 1);
            var bin = Math.Clamp((int)Math.Ceiling(confidence * 15) - 1, 0, 14);
            bins[bin] = (bins[bin].Count + 1, bins[bin].Right + (right ? 1 : 0), bins[bin].Confidence + confidence);
        }

        var perClass = new List<ClassMetrics>();
        for (var c = 0; c < n; c++)
        {
            var support = matrix[c].Sum();
            var predictedAs = matrix.Sum(row => row[c]);
            var precision = predictedAs == 0 ? 0 : (double)matrix[c][c] / predictedAs;
            var recall = support == 0 ? 0 : (double)matrix[c][c] / support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassMetrics(labels[c], precision, recall, f1, support));
        }

        var correct = Enumerable.Range(0, n).Sum(c => matrix[c][c]);
        var top1 = (double)correct / images;
        var meanRecall = perClass.Where(c => c.Support > 0).Average(c => c.Recall);
        var mostConfused = examples.Keys
            .Select(k => (k.Item1, k.Item2, Count: matrix[k.Item1][k.Item2]))
            .OrderByDescending(p => p.Count).ThenBy(p => p.Item1).ThenBy(p => p.Item2).Take(20)
            .Select(p => new ConfusedPair(labels[p.Item1], labels[p.Item2], p.Count, examples[(p.Item1, p.Item2)])).ToList();
        var reliability = bins.Select((b, i) => new ReliabilityBin(i / 15.0, (i + 1) / 15.0, b.Count,
            b.Count == 0 ? 0 : (double)b.Right / b.Count, b.Count == 0 ? 0 : b.Confidence / b.Count)).ToList();
        var ece = reliability.Sum(b => (double)b.Count / images * Math.Abs(b.Accuracy - b.Confidence));

        return new ClassificationRun(id, "clip-vit-b32", "clip", "softmax", id == "run1" ? "default" : "imagenet80",
            id == "run1" ? ["a photo of a {}."] : ["a bad photo of a {}.", "a photo of many {}.", "itap of a {}."],
            images, top1, Math.Min(1, top1 + 0.15), meanRecall, ece,
            "The softmax probability of the best label: the labels' scores sum to 1.",
            new ConfidenceIntervals(new Interval(top1 - 0.01, top1 + 0.01), new Interval(meanRecall - 0.012, meanRecall + 0.012)),
            perClass, new ConfusionMatrix(labels, matrix), mostConfused, reliability,
            ImagesPerSecond: 84.2, new Latency(11.8, 19.4), Seconds: images / 84.2);
    }
}
