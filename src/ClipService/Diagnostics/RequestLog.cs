using Microsoft.AspNetCore.Http.HttpResults;
using Serilog;
using Serilog.AspNetCore;
using Serilog.Events;

namespace ClipService.Diagnostics;

/// <summary>Implemented by response bodies that name a model, so the request log can record it (and the label count).</summary>
public interface IRequestLogFields
{
    string Model { get; }

    /// <summary>Labels or texts the response answers; null where that means nothing.</summary>
    int? LabelCount { get; }
}

/// <summary>Marks an endpoint whose requests are logged at Debug: health probes and metric scrapes, which come every few seconds.</summary>
public sealed class QuietRequestLog
{
    public static readonly QuietRequestLog Instance = new();

    private QuietRequestLog()
    {
    }
}

/// <summary>
/// The one request-log line per request (Serilog's request logging), with the service's own fields: the model and
/// label count from the response (filled by <see cref="Filter"/> on the API route group, not by each handler) and the
/// request body's size.
/// </summary>
public static class RequestLog
{
    private const string FieldsKey = "RequestLog.Fields";
    private const string RefusedKeyKey = "RequestLog.RefusedKey";

    public const string MessageTemplate =
        "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms (model {Model}, labels {LabelCount}, body bytes {BodyBytes}){RefusedKey:l}";

    /// <summary>Records that the request's API key was refused: its line then ends with the key's short hash
    /// (<paramref name="clientId"/>, never the key) and the address it came from.</summary>
    public static void RefuseKey(HttpContext context, string clientId) => context.Items[RefusedKeyKey] = clientId;

    /// <summary>Adds the request-log filter to every endpoint of <paramref name="group"/>.</summary>
    public static RouteGroupBuilder WithRequestLog(this RouteGroupBuilder group) => group.AddEndpointFilter(Filter);

    internal static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        if (result is IValueHttpResult { Value: IRequestLogFields fields })
            context.HttpContext.Items[FieldsKey] = fields;
        return result;
    }

    /// <param name="logger">This host's logger: Serilog's static one is whichever host was built last.</param>
    public static void Configure(RequestLoggingOptions options, Serilog.ILogger logger)
    {
        options.Logger = logger;
        options.MessageTemplate = MessageTemplate;
        options.EnrichDiagnosticContext = Enrich;
        options.GetLevel = Level;
    }

    // A probe's 503 (loading, stopping) is an answer, not an error.
    private static LogEventLevel Level(HttpContext context, double elapsedMs, Exception? exception) =>
        exception is not null ? LogEventLevel.Error
        : context.GetEndpoint()?.Metadata.GetMetadata<QuietRequestLog>() is not null ? LogEventLevel.Debug
        : context.Response.StatusCode >= StatusCodes.Status500InternalServerError ? LogEventLevel.Error
        : LogEventLevel.Information;

    private static void Enrich(IDiagnosticContext diagnostics, HttpContext context)
    {
        var fields = context.Items[FieldsKey] as IRequestLogFields;
        diagnostics.Set("Model", fields?.Model ?? "-");
        diagnostics.Set("LabelCount", (object?)fields?.LabelCount ?? "-");
        diagnostics.Set("BodyBytes", (object?)context.Request.ContentLength ?? "-");
        diagnostics.Set("RefusedKey", context.Items[RefusedKeyKey] is string client
            ? $"; refused an unknown API key (client {client}) from {context.Connection.RemoteIpAddress}"
            : "");
    }
}
