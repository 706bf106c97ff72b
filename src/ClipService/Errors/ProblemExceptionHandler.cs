using ClipService.Core.Imaging;
using Microsoft.AspNetCore.Diagnostics;

namespace ClipService.Errors;

/// <summary>
/// Maps every exception to a ProblemDetails response: client errors to their 4xx with the message,
/// undecodable images to 415/400/413, oversized bodies to 413, overload to 503 with Retry-After, and anything
/// else to a 500 whose body carries no exception detail.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = FrameworkFailures.Classify(exception, httpContext) ?? exception switch
        {
            ClientErrorException e => (e.StatusCode, e.Title, e.Message),
            InvalidImageException { Problem: ImageProblem.UnsupportedFormat } e => (StatusCodes.Status415UnsupportedMediaType, "Unsupported image format", e.Message),
            InvalidImageException { Problem: ImageProblem.TooLarge } e => (StatusCodes.Status413PayloadTooLarge, "Image too large", e.Message),
            InvalidImageException e => (StatusCodes.Status400BadRequest, "Unreadable image", e.Message),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "Client closed request", "The client disconnected."),
            _ => (StatusCodes.Status500InternalServerError, "Internal error", "The service failed to process the request; the error is logged."),
        };

        if (status >= 500 && exception is not ServiceUnavailableException)
            LogUnhandled(logger, exception, httpContext.Request.Path);
        else if (status is >= 400 and < 499)
            LogClientError(logger, status, httpContext.Request.Path, detail);
        if (exception is ServiceUnavailableException unavailable)
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status == 499 || httpContext.Response.HasStarted)
            return true;

        httpContext.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string path);

    // The client's mistake: one line, the reason, no stack trace.
    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Refused {Path} with {Status}: {Detail}")]
    private static partial void LogClientError(ILogger logger, int status, string path, string detail);
}
