using ClipService.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;

namespace ClipService.Errors;

/// <summary>
/// Answers every exception with a ProblemDetails response as <see cref="ProblemMapping"/> says: 4xx with the message,
/// 503 with Retry-After, anything else a 500 whose body carries no exception detail. Refusals are counted.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problemDetails, ClipMetrics metrics, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = ProblemMapping.For(exception, httpContext);
        if (ProblemMapping.NeedsErrorLog(problem))
            LogUnhandled(logger, exception, httpContext.Request.Path);
        else if (problem.Status is >= StatusCodes.Status400BadRequest and < ProblemMapping.ClientClosedRequest)
            LogClientError(logger, problem.Status, httpContext.Request.Path, problem.Detail);
        if (problem.Rejection is { } reason)
            metrics.Rejected(reason);
        if (exception is ServiceUnavailableException unavailable)
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (problem.Status == ProblemMapping.ClientClosedRequest || httpContext.Response.HasStarted)
            return true;

        httpContext.Response.StatusCode = problem.Status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = problem.Status, Title = problem.Title, Detail = problem.Detail },
        });
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string path);

    // The client's mistake: one line, the reason, no stack trace.
    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Refused {Path} with {Status}: {Detail}")]
    private static partial void LogClientError(ILogger logger, int status, string path, string detail);
}
