using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ClipService.Hosting;

namespace ClipService.Evaluation;

/// <summary>
/// <c>ClipService evaluate</c>: zero-shot accuracy on the user's own labelled images, for a grid of models × templates,
/// with the service's engine (in process, or a deployment over HTTP with --url). Writes report.json,
/// predictions.csv and report.html.
/// </summary>
public static class EvaluateCommand
{
    public const string Name = "evaluate";
    public const int Interrupted = 130;

    public const string Help = """
        ClipService evaluate --data DIR [--model NAME]... [--template T | --templates NAME]... [options]
          Zero-shot accuracy on your own labelled images, with the engine behind /classify (every family,
          template, ensemble and the batching pool; in process, or a deployment with --url), for each model × template: top-1, top-k, mean per-class recall,
          per-class precision/recall/F1, confusion matrix, calibration (ECE), bootstrap 95% intervals and paired
          comparisons, throughput and latency. Writes report.json, predictions.csv and report.html into --out.
          --data DIR            an ImageFolder (one sub-folder per class; the folder name is the label unless
                                DIR/classes.csv maps folder,label), or a manifest .csv/.jsonl of path,label (paths
                                relative to the manifest's folder); --task retrieval: a manifest of path,caption
                                (or a folder with captions.csv or captions.jsonl)
          --model NAME          a model (see GET /models); repeat for more (default: the default model)
          --template T          a prompt template with {}; repeat for more, each a run of its own
          --templates NAME      a named ensemble (imagenet7, imagenet80) as one run; mixes with --template
                                (default: the family's template)
          --out DIR             where the reports go (default ./eval-<yyyyMMdd-HHmmss>)
          --top-k K             top-k accuracy's k (default 5)
          --limit-per-class N   at most N images per class, drawn with --seed
          --seed S              seed of the bootstrap and of --limit-per-class (default 0)
          --task classify|retrieval   (default classify); retrieval: recall@1/5/10 image→text and text→image
          --concurrency N       requests in flight (default 16)
          --url URL             evaluate a running deployment over HTTP instead of loading the models here
          --api-key KEY         its API key (or the CLIP_API_KEY environment variable, which ps does not show)
          --timeout SECONDS     with --url: longest wait for one answer before the run stops (default 60)
          --Clip:Setting=value  in process: any service setting (e.g. --Clip:ModelsPath=DIR)
          Exit codes: 0 done, 2 bad arguments or unusable data, 1 the models or the service failed,
          130 interrupted (Ctrl-C): the reports cover what was done and say partial.
        """;

    private static readonly JsonSerializerOptions ReportJson = new(EvaluationClient.Json)
    {
        WriteIndented = true,
        // Labels and commands as people wrote them (Chinese, quotes), not \uXXXX; the file is data, never HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, output, error, terminal: !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error), imageDone: null, cancellationToken);

    internal static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool terminal, Action<int>? imageDone,
        CancellationToken cancellationToken)
    {
        if (args is ["-h" or "--help", ..])
        {
            await output.WriteLineAsync(Help);
            return 0;
        }

        var (arguments, problem) = EvaluationArguments.Parse(args);
        if (arguments is null)
            return await FailAsync(error, 2, $"{problem}. See {Name} --help.");

        LabelledData? labelled = null;
        CaptionedData? captioned = null;
        try
        {
            if (arguments.Task == EvaluationArguments.RetrievalTask)
                captioned = EvaluationData.LoadCaptioned(arguments.Data);
            else
                labelled = EvaluationData.LoadLabelled(arguments.Data, arguments.LimitPerClass, arguments.Seed);
        }
        catch (Exception e) when (e is EvaluationDataException or IOException or UnauthorizedAccessException)
        {
            return await FailAsync(error, 2, e.Message);
        }

        var started = DateTimeOffset.Now;
        var outFolder = Path.GetFullPath(arguments.Out ?? $"eval-{started:yyyyMMdd-HHmmss}");
        try
        {
            Directory.CreateDirectory(outFolder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return await FailAsync(error, 2, $"--out '{outFolder}' cannot be created: {e.Message}");
        }

        // Ctrl-C and SIGTERM end the run where it is; the reports are still written, marked partial. A second one
        // ends the process at once (a file system that hangs a read would otherwise hold it).
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = !interrupt.IsCancellationRequested;
            interrupt.Cancel();
        }

        InProcessService? service = null;
        try
        {
            return await EvaluateAsync(arguments, labelled, captioned, outFolder, started, CommandText(args), output, error, terminal, imageDone,
                started => service = started, interrupt.Token);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return await FailAsync(error, Interrupted, "interrupted before any image was evaluated; no report written.");
        }
        finally
        {
            if (service is not null)
                await service.DisposeAsync();
        }
    }

    private static async Task<int> EvaluateAsync(EvaluationArguments arguments, LabelledData? labelled, CaptionedData? captioned, string outFolder,
        DateTimeOffset started, string command, TextWriter output, TextWriter error, bool terminal, Action<int>? imageDone,
        Action<InProcessService> serviceStarted, CancellationToken cancellationToken)
    {
        InProcessService? service = null;
        if (arguments.Url is null)
        {
            try
            {
                service = await InProcessService.StartAsync(arguments.Settings, labelled?.Labels.Count ?? 0, cancellationToken);
                serviceStarted(service);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return await FailAsync(error, 1, $"the service cannot start: {StartupFailure.Describe(e)}");
            }
        }

        using var http = service is null ? EvaluationClient.CreateHttpClient(WithSlash(arguments.Url!), arguments.ApiKey, arguments.Concurrency, arguments.Timeout) : null;
        var client = service?.Target ?? new EvaluationClient(http!);
        IReadOnlyList<ServedModel> served;
        try
        {
            served = await client.ModelsAsync(cancellationToken);
        }
        catch (Exception e) when (e is TargetUnavailableException or RefusedException)
        {
            return await FailAsync(error, 1, $"GET /models failed: {e.Message}");
        }

        var byName = served.ToDictionary(m => m.Name, StringComparer.Ordinal);
        if (arguments.Models.FirstOrDefault(m => !byName.ContainsKey(m)) is { } unknown)
            return await FailAsync(error, 2, $"no model '{unknown}': {string.Join(", ", byName.Keys)}.");
        var models = arguments.Models.Count > 0 ? arguments.Models.Select(m => byName[m]).ToList()
            : served.Where(m => m.Default).Take(1).ToList() is [_] chosen ? chosen
            : [.. served.Take(1)];
        if (models.Count == 0)
            return await FailAsync(error, 1, "the service has no models loaded.");

        var grid = models.SelectMany(m => arguments.Templates.Select(t => (Model: m, Template: t)))
            .Select((cell, i) => (Id: $"run{i + 1}", cell.Model, cell.Template)).ToList();
        // Each cell once on a blank picture before any image: an unknown template set, too many labels for the
        // deployment or a model that refuses them is an argument error now, not a whole pass of refusals.
        foreach (var (_, model, template) in grid)
        {
            try
            {
                if (labelled is not null)
                    await client.ClassifyAsync(Probe.Value, labelled.Labels, model.Name, template, 1, cancellationToken);
                else
                    await client.EmbedTextsAsync([template.Template?.Replace("{}", captioned!.Images[0].Captions[0], StringComparison.Ordinal) ?? captioned!.Images[0].Captions[0]], model.Name, cancellationToken);
            }
            catch (RefusedException e)
            {
                return await FailAsync(error, 2, $"{model.Name} with template '{template.Name}' is refused: {e.Message}");
            }
            catch (TargetUnavailableException e)
            {
                return await FailAsync(error, 1, e.Message);
            }
        }

        var digests = service is null ? new Dictionary<string, IReadOnlyList<FileDigest>>() : await Task.Run(service.Digests, cancellationToken);
        var evaluatedModels = models.Select(m => new EvaluatedModel(m.Name, m.Family, m.Scoring, m.Provider,
            digests.TryGetValue(m.Name, out var d) ? d : [])).ToList();
        var total = grid.Count * (labelled?.Images.Count ?? captioned!.Images.Count);
        var progress = new EvaluationProgress(error, terminal, total);
        var topK = labelled is null ? arguments.TopK : Math.Min(arguments.TopK, labelled.Labels.Count);
        var runner = new EvaluationRunner(client, arguments.Concurrency, topK, progress) { ImageDone = imageDone };
        var classifications = labelled is null ? null : grid.Select(g => new RunAnswers(g.Id, g.Model, g.Template)).ToList();
        var retrievals = labelled is null ? grid.Select(g => new RetrievalAnswers(g.Id, g.Model, g.Template)).ToList() : null;

        var complete = false;
        string? failure = null;
        try
        {
            complete = labelled is not null
                ? await runner.ClassifyAsync(labelled, classifications!, cancellationToken)
                : await runner.RetrieveAsync(captioned!, retrievals!, cancellationToken);
        }
        catch (TargetUnavailableException e)
        {
            failure = e.Message; // what was answered before is still reported, marked partial
        }
        finally
        {
            progress.Finish();
        }

        var version = typeof(EvaluateCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var mode = service is null ? "url" : "in-process";
        EvaluationReport report;
        if (labelled is not null)
        {
            var (runs, comparisons, skipped) = EvaluationReportBuilder.Classification(labelled, classifications!, arguments.Seed);
            report = new EvaluationReport(version, command, mode, arguments.Url?.ToString(), arguments.Task, labelled.Root, started, DateTimeOffset.Now,
                !complete, labelled.Images.Count, topK, arguments.Seed, evaluatedModels, runs, comparisons, [], skipped);
        }
        else
        {
            var (runs, skipped) = EvaluationReportBuilder.Retrieval(captioned!, retrievals!);
            report = new EvaluationReport(version, command, mode, arguments.Url?.ToString(), arguments.Task, captioned!.Root, started, DateTimeOffset.Now,
                !complete, captioned.Images.Count, topK, arguments.Seed, evaluatedModels, [], [], runs, skipped);
        }

        await WriteReportsAsync(report, labelled?.Root ?? captioned!.Root, outFolder);
        await output.WriteLineAsync(Summary(report, outFolder));
        if (failure is not null)
            return await FailAsync(error, 1, $"{failure} (the reports cover what was answered before, marked partial)");
        if (complete && report.Runs.Count == 0 && report.RetrievalRuns.Count == 0)
            return await FailAsync(error, 1, $"the service answered no image: {(report.Skipped.Count > 0 ? report.Skipped[0].Reason : "every image was refused")}");
        return complete ? 0 : Interrupted;
    }

    /// <summary>A blank 8×8 PNG: an image every model reads, for checking each grid cell before the run.</summary>
    private static readonly Lazy<byte[]> Probe = new(() =>
    {
        using var bitmap = new SkiaSharp.SKBitmap(8, 8);
        bitmap.Erase(SkiaSharp.SKColors.Gray);
        using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    });

    public static async Task WriteReportsAsync(EvaluationReport report, string dataRoot, string outFolder)
    {
        await File.WriteAllTextAsync(Path.Combine(outFolder, "report.json"), JsonSerializer.Serialize(report, ReportJson), Utf8);
        await File.WriteAllTextAsync(Path.Combine(outFolder, "predictions.csv"), PredictionsCsv(report), Utf8);
        var thumbnails = new EvaluationThumbnails(dataRoot);
        // The thumbnails are decoded from the data folder: file reads and decoding off the caller's thread.
        var html = await Task.Run(() => EvaluationHtml.Render(report, thumbnails.DataUri));
        await File.WriteAllTextAsync(Path.Combine(outFolder, "report.html"), html, Utf8);
    }

    private static string PredictionsCsv(EvaluationReport report)
    {
        if (report.Task == EvaluationArguments.RetrievalTask)
        {
            var ranks = new StringBuilder("run,model,template,path,caption_rank,top_caption\n");
            foreach (var run in report.RetrievalRuns)
            foreach (var r in run.Ranks)
                ranks.Append(CultureInfo.InvariantCulture, $"{run.Id},{Csv.Field(run.Model)},{Csv.Field(run.Template)},{Csv.Field(r.Path)},{r.Rank},{Csv.Field(r.Best)}\n");
            return ranks.ToString();
        }

        var csv = new StringBuilder("run,model,template,path,label,predicted,correct,confidence,top_k,latency_ms\n");
        foreach (var run in report.Runs)
        foreach (var p in run.Predictions)
            csv.Append(CultureInfo.InvariantCulture, $"{run.Id},{Csv.Field(run.Model)},{Csv.Field(run.Template)},{Csv.Field(p.Path)},{Csv.Field(p.Label)},{Csv.Field(p.Predicted)},")
                .Append(CultureInfo.InvariantCulture, $"{(p.Label == p.Predicted ? "true" : "false")},{p.Confidence:R},{Csv.Field(string.Join('|', p.Ranked))},{p.LatencyMs:F2}\n");
        return csv.ToString();
    }

    private static string Summary(EvaluationReport report, string outFolder)
    {
        var text = new StringBuilder();
        if (report.Partial)
            text.AppendLine("Interrupted: the reports cover the images done so far (partial).");
        foreach (var run in report.Runs)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{run.Id} {run.Model} [{run.Template}]: top-1 {run.Top1:P1} ({run.Ci95.Top1.Low:P1}–{run.Ci95.Top1.High:P1}), top-{report.TopK} {run.TopK:P1}, mean per-class recall {run.MeanPerClassRecall:P1}, ECE {run.Ece:F3}, {run.Images} images, {run.ImagesPerSecond:F1} img/s");
        foreach (var c in report.Comparisons)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{c.B} − {c.A}: top-1 {c.Top1Difference * 100:+0.0;-0.0;0.0} points ({c.Ci95.Low * 100:F1} to {c.Ci95.High * 100:F1}), {(c.Significant ? "significant" : "not significant")}");
        foreach (var run in report.RetrievalRuns)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{run.Id} {run.Model}: image→text R@1 {run.ImageToText.R1:P1} R@5 {run.ImageToText.R5:P1} R@10 {run.ImageToText.R10:P1}; text→image R@1 {run.TextToImage.R1:P1} R@5 {run.TextToImage.R5:P1} R@10 {run.TextToImage.R10:P1}");
        if (report.Skipped.Count > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"{report.Skipped.Count} image(s) skipped (listed in the reports).");
        text.Append(CultureInfo.InvariantCulture, $"Reports: {Path.Combine(outFolder, "report.html")} (and report.json, predictions.csv)");
        return text.ToString();
    }

    /// <summary>The command as a shell would take it back: arguments with spaces or quotes single-quoted, API keys hidden.</summary>
    private static string CommandText(string[] args)
    {
        var parts = new List<string> { "ClipService", Name };
        for (var i = 0; i < args.Length; i++)
        {
            var value = i > 0 && args[i - 1] == "--api-key" ? "***" : args[i];
            parts.Add(value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@+,".Contains(c)) ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'");
        }

        return string.Join(' ', parts);
    }

    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");

    private static async Task<int> FailAsync(TextWriter error, int code, string message)
    {
        await error.WriteLineAsync($"{Name}: {StartupFailure.OneLine(message)}");
        return code;
    }
}
