using System.Diagnostics;

namespace ClipService.Diagnostics;

/// <summary>
/// The service's spans, children of the ASP.NET Core request span: <c>decode</c>, <c>queue wait</c>,
/// <c>image encode</c> and <c>text encode</c>. An image batch serves several requests at once, so each request gets
/// its own queue-wait and image-encode span under its own trace, tagged with the batch size.
/// </summary>
public static class ClipTracing
{
    public const string SourceName = "ClipService";
    public const string Decode = "decode";
    public const string QueueWait = "queue wait";
    public const string ImageEncode = "image encode";
    public const string TextEncode = "text encode";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The current request's trace, for work that another thread finishes (the image batch worker).</summary>
    public static ActivityContext CurrentRequest => Activity.Current?.Context ?? default;

    public static Activity? StartDecode() => Source.StartActivity(Decode);

    public static IReadOnlyList<Activity> StartTextEncode(int count) =>
        Source.StartActivity(TextEncode) is { } span ? [span.SetTag("clip.texts", count)] : [];

    internal static IReadOnlyList<Activity> StartImageEncode(IEnumerable<(ActivityContext Request, DateTimeOffset Queued)> jobs, int count)
    {
        if (!Source.HasListeners())
            return [];
        var spans = new List<Activity>();
        foreach (var (request, queued) in jobs)
        {
            if (request == default)
                continue;
            Source.StartActivity(QueueWait, ActivityKind.Internal, request, startTime: queued)?.Dispose();
            if (Source.StartActivity(ImageEncode, ActivityKind.Internal, request) is { } span)
                spans.Add(span.SetTag("clip.batch_size", count));
        }

        return spans;
    }
}
