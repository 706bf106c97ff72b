using Serilog;
using Serilog.AspNetCore;

namespace ClipService.Hosting;

/// <summary>The request-log line's own fields: which model, how many labels, how large an image.</summary>
public static class RequestLog
{
    private const string ModelKey = "RequestLog.Model";
    private const string LabelCountKey = "RequestLog.LabelCount";
    private const string ImageBytesKey = "RequestLog.ImageBytes";

    public const string MessageTemplate =
        "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms (model {Model}, labels {LabelCount}, image bytes {ImageBytes})";

    public static void SetModel(HttpContext context, string model) => context.Items[ModelKey] = model;

    public static void SetLabelCount(HttpContext context, int count) => context.Items[LabelCountKey] = count;

    public static void SetImageBytes(HttpContext context, int bytes) => context.Items[ImageBytesKey] = bytes;

    public static void Configure(RequestLoggingOptions options)
    {
        options.MessageTemplate = MessageTemplate;
        options.EnrichDiagnosticContext = Enrich;
    }

    private static void Enrich(IDiagnosticContext diagnostics, HttpContext context)
    {
        diagnostics.Set("Model", context.Items[ModelKey] ?? "-");
        diagnostics.Set("LabelCount", context.Items[LabelCountKey] ?? "-");
        diagnostics.Set("ImageBytes", context.Items[ImageBytesKey] ?? "-");
    }
}
