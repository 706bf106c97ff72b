using System.Collections.Concurrent;
using System.Diagnostics;

namespace ClipService.Evaluation;

/// <summary>One grid cell's raw answers, before the metrics.</summary>
public sealed class RunAnswers(string id, ServedModel model, TemplateChoice template)
{
    public string Id { get; } = id;
    public ServedModel Model { get; } = model;
    public TemplateChoice Template { get; } = template;
    public ConcurrentDictionary<string, Prediction> Predictions { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, string> Refused { get; } = new(StringComparer.Ordinal);
    public IReadOnlyList<string> TemplatesUsed { get; set; } = [];
    public string Scoring { get; set; } = model.Scoring;
    public double Seconds { get; set; }

    /// <summary>Images answered after the first (which also embeds the labels), for the throughput.</summary>
    public int TimedImages { get; set; }
}

/// <summary>One retrieval run's embeddings.</summary>
public sealed class RetrievalAnswers(string id, ServedModel model, TemplateChoice template)
{
    public string Id { get; } = id;
    public ServedModel Model { get; } = model;
    public TemplateChoice Template { get; } = template;
    public ConcurrentDictionary<string, (float[] Embedding, double LatencyMs)> Images { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, string> Refused { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, float[]> Captions { get; } = new(StringComparer.Ordinal);
    public double Seconds { get; set; }
}

/// <summary>
/// Sends every image of the data through the service once per grid cell (models × templates), a bounded number at a
/// time so the batcher fills its encoder calls. A refused image is kept with its reason; cancellation stops the grid
/// where it is and keeps what was answered.
/// </summary>
public sealed class EvaluationRunner(IEvaluationTarget client, int concurrency, int topK, EvaluationProgress progress)
{
    private const int CaptionsPerRequest = 64;

    /// <summary>Larger files are skipped unread: base64 in a JSON body, they exceed any request limit a service would
    /// set, and concurrent reads of such files would hold gigabytes here.</summary>
    public const long MaxFileBytes = 32L << 20;

    /// <summary>Called after each image (tests use it to interrupt a run part way).</summary>
    public Action<int>? ImageDone { get; init; }

    public async Task<bool> ClassifyAsync(LabelledData data, IReadOnlyList<RunAnswers> runs, CancellationToken cancellationToken)
    {
        foreach (var run in runs)
        {
            try
            {
                await ClassifyRunAsync(data, run, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        return true;
    }

    private async Task ClassifyRunAsync(LabelledData data, RunAnswers run, CancellationToken cancellationToken)
    {
        var labels = data.Labels;
        async ValueTask One(LabelledImage image, CancellationToken token) =>
            await SendAsync(image.Path, image.FullPath, run.Refused, async bytes =>
            {
                var started = Stopwatch.GetTimestamp();
                var answer = await client.ClassifyAsync(bytes, labels, run.Model.Name, run.Template, topK, token);
                var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                run.TemplatesUsed = answer.Templates;
                run.Scoring = answer.Scoring;
                var best = answer.Labels[0];
                run.Predictions[image.Path] = new Prediction(image.Path, image.Label, best.Label, best.Score, [.. answer.Labels.Select(l => l.Label)], latency);
            }, token);

        // Images go one at a time until one is answered (that request also embeds the labels), then concurrently;
        // the throughput counts the concurrent part.
        var images = data.Images;
        var next = 0;
        while (next < images.Count && run.Predictions.IsEmpty)
            await One(images[next++], cancellationToken);
        var timedFrom = Stopwatch.GetTimestamp();
        var timed = 0;
        try
        {
            await Parallel.ForEachAsync(images.Skip(next), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (image, token) =>
                {
                    await One(image, token);
                    Interlocked.Increment(ref timed);
                });
        }
        finally
        {
            run.TimedImages = timed;
            run.Seconds = Stopwatch.GetElapsedTime(timedFrom).TotalSeconds;
        }
    }

    /// <summary>Reads one image and sends it; what the service refuses or the file system cannot read is kept with its reason.</summary>
    private async Task SendAsync(string path, string fullPath, ConcurrentDictionary<string, string> refused, Func<byte[], Task> send, CancellationToken cancellationToken)
    {
        try
        {
            await send(await ReadAsync(fullPath, cancellationToken));
        }
        catch (RefusedException e)
        {
            refused[path] = e.Message;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            refused[path] = $"cannot be read: {e.Message}";
        }

        progress.Advance();
        ImageDone?.Invoke(progress.Done);
    }

    private static async Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken)
    {
        // A FIFO, a device or a /proc file reports no length: opening a FIFO would wait for a writer forever and
        // /dev/zero never ends, so what is not a regular file with bytes in it is skipped unopened.
        var file = new FileInfo(path);
        // A link's own length is its target's name: measure what it points to.
        var length = (file.LinkTarget is null ? file : File.ResolveLinkTarget(path, returnFinalTarget: true) as FileInfo ?? file).Length;
        if (length == 0)
            throw new RefusedException("empty, or not a regular file");
        if (length > MaxFileBytes)
            throw new RefusedException($"the file is {length / (1024.0 * 1024):F0} MiB; evaluate sends files of at most {MaxFileBytes >> 20} MiB");
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, useAsync: true);
        var bytes = new byte[length];
        var read = await stream.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, cancellationToken);
        // A file that changes while it is read is taken as it was when measured; one that shrank, as far as it went.
        return read == bytes.Length ? bytes : bytes[..read];
    }

    public async Task<bool> RetrieveAsync(CaptionedData data, IReadOnlyList<RetrievalAnswers> runs, CancellationToken cancellationToken)
    {
        foreach (var run in runs)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var captions = data.Images.SelectMany(i => i.Captions).Distinct(StringComparer.Ordinal).ToList();
                foreach (var chunk in captions.Chunk(CaptionsPerRequest))
                {
                    var prompts = chunk.Select(c => run.Template.Template?.Replace("{}", c, StringComparison.Ordinal) ?? c).ToList();
                    var rows = await client.EmbedTextsAsync(prompts, run.Model.Name, cancellationToken);
                    for (var i = 0; i < chunk.Length; i++)
                        run.Captions[chunk[i]] = rows[i];
                }

                await Parallel.ForEachAsync(data.Images, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                    async (image, token) => await SendAsync(image.Path, image.FullPath, run.Refused, async bytes =>
                    {
                        var begun = Stopwatch.GetTimestamp();
                        var embedding = await client.EmbedImageAsync(bytes, run.Model.Name, token);
                        run.Images[image.Path] = (embedding, Stopwatch.GetElapsedTime(begun).TotalMilliseconds);
                    }, token));
                run.Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        return true;
    }
}
