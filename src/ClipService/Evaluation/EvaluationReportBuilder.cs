namespace ClipService.Evaluation;

/// <summary>Turns the runs' answers into the report: every run is measured on the same images, those no run refused
/// and every run answered (all of them but the refused, unless the grid was interrupted).</summary>
public static class EvaluationReportBuilder
{
    public static string ConfidenceMeaning(string scoring) => scoring switch
    {
        "softmax" => "Confidence is the best label's softmax probability over the dataset's labels.",
        "sigmoid" => "Confidence is the best label's own sigmoid probability: this family scores each label independently, so scores do not sum to 1 and the top label's probability is used.",
        "rank" => "Confidence is the best label's cosine similarity: this model folder has no trained bias, so its scores are not probabilities and the calibration figures are only indicative.",
        _ => $"Confidence is the best label's score ({scoring}).",
    };

    public static (List<ClassificationRun> Runs, List<RunComparison> Comparisons, List<SkippedImage> Skipped) Classification(
        LabelledData data, IReadOnlyList<RunAnswers> answers, int seed)
    {
        var skipped = Skipped(answers.SelectMany(a => a.Refused));
        var refused = skipped.Select(s => s.Path).ToHashSet(StringComparer.Ordinal);
        var index = data.Labels.Select((label, i) => (label, i)).ToDictionary(x => x.label, x => x.i, StringComparer.Ordinal);
        var answered = answers.Where(a => !a.Predictions.IsEmpty).ToList();
        var evaluated = data.Images.Where(i => !refused.Contains(i.Path) && answered.All(a => a.Predictions.ContainsKey(i.Path))).ToList();

        var runs = new List<ClassificationRun>();
        var outcomesByRun = new Dictionary<string, Dictionary<string, Outcome>>(StringComparer.Ordinal);
        foreach (var run in answered)
        {
            var predictions = evaluated.Where(i => run.Predictions.ContainsKey(i.Path)).Select(i => run.Predictions[i.Path]).ToList();
            var outcomes = predictions.Select(p => new Outcome(index[p.Label], index[p.Predicted], p.Ranked.Contains(p.Label), p.Confidence)).ToArray();
            outcomesByRun[run.Id] = predictions.Zip(outcomes).ToDictionary(x => x.First.Path, x => x.Second, StringComparer.Ordinal);
            var confusion = ClassificationMetrics.Confusion(outcomes, data.Labels.Count);
            var reliability = ClassificationMetrics.Reliability(outcomes);
            runs.Add(new ClassificationRun(
                run.Id, run.Model.Name, run.Model.Family, run.Scoring, run.Template.Name, run.TemplatesUsed, outcomes.Length,
                ClassificationMetrics.Top1(outcomes), ClassificationMetrics.TopK(outcomes), ClassificationMetrics.MeanPerClassRecall(confusion),
                ClassificationMetrics.ExpectedCalibrationError(reliability), ConfidenceMeaning(run.Scoring),
                ClassificationMetrics.Bootstrap(outcomes, data.Labels.Count, seed),
                ClassificationMetrics.PerClass(confusion, data.Labels),
                new ConfusionMatrix(data.Labels, confusion),
                ClassificationMetrics.MostConfused(confusion, data.Labels, predictions),
                reliability,
                run.Seconds > 0 ? run.TimedImages / run.Seconds : 0,
                LatencyOf(predictions.Select(p => p.LatencyMs)),
                run.Seconds)
            {
                Predictions = predictions,
            });
        }

        var comparisons = new List<RunComparison>();
        for (var a = 0; a < runs.Count; a++)
        for (var b = a + 1; b < runs.Count; b++)
        {
            var first = outcomesByRun[runs[a].Id];
            var second = outcomesByRun[runs[b].Id];
            var shared = evaluated.Where(i => first.ContainsKey(i.Path) && second.ContainsKey(i.Path)).ToList();
            var (difference, interval) = ClassificationMetrics.PairedTop1Difference(
                [.. shared.Select(i => first[i.Path])], [.. shared.Select(i => second[i.Path])], seed);
            comparisons.Add(new RunComparison(runs[a].Id, runs[b].Id, difference, interval, interval.Low > 0 || interval.High < 0));
        }

        return (runs, comparisons, skipped);
    }

    public static (List<RetrievalRun> Runs, List<SkippedImage> Skipped) Retrieval(CaptionedData data, IReadOnlyList<RetrievalAnswers> answers)
    {
        var skipped = Skipped(answers.SelectMany(a => a.Refused));
        var refused = skipped.Select(s => s.Path).ToHashSet(StringComparer.Ordinal);
        var runs = new List<RetrievalRun>();
        var answered = answers.Where(a => !a.Images.IsEmpty).ToList();
        var images = data.Images.Where(i => !refused.Contains(i.Path) && answered.All(a => a.Images.ContainsKey(i.Path))).ToList();
        foreach (var run in answered)
        {
            var imageEmbeddings = images.Select(i => run.Images[i.Path].Embedding).ToList();
            var captions = images.SelectMany((image, i) => image.Captions.Select(c => (Caption: c, Image: i))).ToList();
            var (imageToText, textToImage, ranks) = RetrievalMetrics.Recall(imageEmbeddings, [.. captions.Select(c => run.Captions[c.Caption])], [.. captions.Select(c => c.Image)]);
            runs.Add(new RetrievalRun(run.Id, run.Model.Name, run.Model.Family, run.Template.Template ?? "none", images.Count, captions.Count,
                imageToText, textToImage, run.Seconds > 0 ? run.Images.Count / run.Seconds : 0,
                LatencyOf(images.Select(i => run.Images[i.Path].LatencyMs)), run.Seconds)
            {
                Ranks = [.. images.Select((image, i) => new RetrievalRank(image.Path, ranks[i].Rank + 1, captions[ranks[i].Best].Caption))],
            });
        }

        return (runs, skipped);
    }

    private static List<SkippedImage> Skipped(IEnumerable<KeyValuePair<string, string>> refused) =>
        refused.GroupBy(r => r.Key, StringComparer.Ordinal)
            .Select(g => new SkippedImage(g.Key, g.First().Value))
            .OrderBy(s => s.Path, StringComparer.Ordinal)
            .ToList();

    private static Latency LatencyOf(IEnumerable<double> latencies)
    {
        var sorted = latencies.Order().ToArray();
        return sorted.Length == 0 ? new Latency(0, 0) : new Latency(ClassificationMetrics.Percentile(sorted, 50), ClassificationMetrics.Percentile(sorted, 95));
    }
}
