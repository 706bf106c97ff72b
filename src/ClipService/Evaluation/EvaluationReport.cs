using System.Text.Json.Serialization;

namespace ClipService.Evaluation;

/// <summary>What <c>evaluate</c> writes to report.json (snake_case), and what report.html shows. The README documents
/// the schema; a field renamed here is a breaking change for the scripts that read it.</summary>
/// <param name="Command">The command line as given, quoted so that it can be pasted back into a shell.</param>
/// <param name="Mode">"in-process" (the models folder, loaded here) or "url" (a running deployment, <see cref="Url"/>).</param>
/// <param name="Partial">True when the run was interrupted (Ctrl-C): the figures cover the images done before it.</param>
/// <param name="Task">"classify" or "retrieval".</param>
/// <param name="Images">Images in the data after --limit-per-class, skipped ones included.</param>
public sealed record EvaluationReport(
    string ServiceVersion,
    string Command,
    string Mode,
    string? Url,
    string Task,
    string Data,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    bool Partial,
    int Images,
    int TopK,
    int Seed,
    IReadOnlyList<EvaluatedModel> Models,
    IReadOnlyList<ClassificationRun> Runs,
    IReadOnlyList<RunComparison> Comparisons,
    IReadOnlyList<RetrievalRun> RetrievalRuns,
    IReadOnlyList<SkippedImage> Skipped);

/// <summary>A model the runs used, with the SHA-256 of its files so a report names exactly what was measured.</summary>
/// <param name="Digests">One per ONNX, tokenizer and config file of the folder (empty with --url: the files are on the server).</param>
public sealed record EvaluatedModel(string Name, string Family, string Scoring, string Provider, IReadOnlyList<FileDigest> Digests);

/// <param name="Path">Relative to the model folder, '/'-separated.</param>
public sealed record FileDigest(string Path, string Sha256, long Bytes);

/// <summary>One cell of the grid: a model with one template choice, over every evaluated image.</summary>
/// <param name="Id">"run1", "run2", ... in grid order (models outer, templates inner).</param>
/// <param name="Template">The template choice as given: a template, a named set such as "imagenet80", or "default".</param>
/// <param name="Templates">The templates the labels were put in (several: ensembled).</param>
/// <param name="Images">Images classified in this run (skipped ones excluded).</param>
/// <param name="Top1">Share of images whose best label is the true one.</param>
/// <param name="TopK">Share whose true label is among the best <see cref="EvaluationReport.TopK"/>.</param>
/// <param name="MeanPerClassRecall">Balanced accuracy: the mean over classes with images of each class's recall.</param>
/// <param name="Ece">Expected calibration error over 15 equal-width confidence bins.</param>
/// <param name="Confidence">What the confidence in the ECE and the reliability diagram is, for this model's scoring.</param>
/// <param name="Ci95">Seeded bootstrap 95% intervals (1,000 resamples of the images).</param>
/// <param name="Confusion">Rows are true labels, columns predicted, in the order of <see cref="ConfusionMatrix.Labels"/>.</param>
/// <param name="MostConfused">Off-diagonal cells, largest first (at most 20), with some of their images.</param>
/// <param name="Reliability">The 15 bins of the reliability diagram.</param>
/// <param name="ImagesPerSecond">Images classified per second of this run's wall time.</param>
/// <param name="LatencyMs">Per-image request latency.</param>
public sealed record ClassificationRun(
    string Id,
    string Model,
    string Family,
    string Scoring,
    string Template,
    IReadOnlyList<string> Templates,
    int Images,
    double Top1,
    double TopK,
    double MeanPerClassRecall,
    double Ece,
    string Confidence,
    ConfidenceIntervals Ci95,
    IReadOnlyList<ClassMetrics> PerClass,
    ConfusionMatrix Confusion,
    IReadOnlyList<ConfusedPair> MostConfused,
    IReadOnlyList<ReliabilityBin> Reliability,
    double ImagesPerSecond,
    Latency LatencyMs,
    double Seconds)
{
    /// <summary>Every image's prediction, for predictions.csv (not in report.json: it would dwarf the rest).</summary>
    [JsonIgnore]
    public IReadOnlyList<Prediction> Predictions { get; init; } = [];
}

public sealed record ConfidenceIntervals(Interval Top1, Interval MeanPerClassRecall);

public sealed record Interval(double Low, double High);

/// <param name="Support">Images whose true label this is.</param>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support);

/// <param name="Matrix">matrix[true][predicted]: counts; it sums to the run's images.</param>
public sealed record ConfusionMatrix(IReadOnlyList<string> Labels, IReadOnlyList<IReadOnlyList<int>> Matrix);

/// <param name="Examples">Paths (relative to --data) of up to 8 images of the pair.</param>
public sealed record ConfusedPair(string True, string Predicted, int Count, IReadOnlyList<string> Examples);

/// <param name="Lower">The bin is (Lower, Upper]; the first bin also holds 0.</param>
/// <param name="Accuracy">Share right among the bin's images (0 when empty).</param>
/// <param name="Confidence">Mean confidence of the bin's images (0 when empty).</param>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double Accuracy, double Confidence);

public sealed record Latency(double P50, double P95);

/// <summary>A paired bootstrap over the same images: is run B's top-1 different from run A's?</summary>
/// <param name="Top1Difference">B's top-1 minus A's.</param>
/// <param name="Ci95">95% interval of the difference.</param>
/// <param name="Significant">True when the interval excludes 0.</param>
public sealed record RunComparison(string A, string B, double Top1Difference, Interval Ci95, bool Significant);

/// <summary>Retrieval over a captioned manifest: each image's caption among all captions, and back.</summary>
/// <param name="ImageToText">recall@1, @5, @10: share of images whose caption ranks within the first k.</param>
/// <param name="TextToImage">Share of captions whose image ranks within the first k.</param>
/// <param name="Template">The template captions were put in: "none" (captions as given) unless --template is given.</param>
public sealed record RetrievalRun(
    string Id,
    string Model,
    string Family,
    string Template,
    int Images,
    int Captions,
    RecallAtK ImageToText,
    RecallAtK TextToImage,
    double ImagesPerSecond,
    Latency LatencyMs,
    double Seconds)
{
    /// <summary>Each image's place, for predictions.csv (not in report.json).</summary>
    [JsonIgnore]
    public IReadOnlyList<RetrievalRank> Ranks { get; init; } = [];
}

/// <param name="Rank">1-based place of the image's best-placed caption among all captions.</param>
/// <param name="Best">The caption ranked first for the image.</param>
public sealed record RetrievalRank(string Path, int Rank, string Best);

/// <summary>recall@1, @5 and @10 (report.json: recall_at_1, recall_at_5, recall_at_10).</summary>
public sealed record RecallAtK(
    [property: JsonPropertyName("recall_at_1")] double R1,
    [property: JsonPropertyName("recall_at_5")] double R5,
    [property: JsonPropertyName("recall_at_10")] double R10);

/// <param name="Path">Relative to --data, '/'-separated.</param>
/// <param name="Reason">What the service (or the file system) said.</param>
public sealed record SkippedImage(string Path, string Reason);

/// <summary>One image in one run, as predictions.csv lists it.</summary>
/// <param name="Confidence">The best label's score (softmax: its probability; sigmoid: its own probability).</param>
/// <param name="Ranked">The best labels, best first (top-k of them).</param>
public sealed record Prediction(string Path, string Label, string Predicted, double Confidence, IReadOnlyList<string> Ranked, double LatencyMs);
