using ClipService.Errors;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ClipService.OpenAi;

/// <summary>
/// Writes the problems of /v1/* requests in OpenAI's error shape, <c>{"error": {"message", "type", "param", "code"}}</c>,
/// so OpenAI clients report them as they would OpenAI's own. The status, the message and Retry-After come from the
/// service's one exception mapping (<see cref="ProblemExceptionHandler"/>) or from the status-code pages; only the body's
/// shape differs from the ProblemDetails every other path answers with.
/// </summary>
internal sealed class OpenAiErrorWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public const string PathPrefix = "/v1";

    public bool CanWrite(ProblemDetailsContext context) => context.HttpContext.Request.Path.StartsWithSegments(PathPrefix);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
        var message = context.ProblemDetails.Detail ?? context.ProblemDetails.Title ?? $"HTTP {status}";
        var (param, code) = context.Exception switch
        {
            OpenAiRequestException e => (e.Param, null),
            ModelNotFoundException => ("model", "model_not_found"),
            _ => ((string?)null, CodeOf(status)),
        };
        var error = new OpenAiErrorBody(new OpenAiError(message, TypeOf(status), param, code));
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(error, json.Value.SerializerOptions, context.HttpContext.RequestAborted));
    }

    private static string TypeOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string? CodeOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "invalid_api_key",
        StatusCodes.Status404NotFound => "not_found",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported_media_type",
        StatusCodes.Status429TooManyRequests => "rate_limit_exceeded",
        StatusCodes.Status503ServiceUnavailable => "service_unavailable",
        _ => null,
    };
}
