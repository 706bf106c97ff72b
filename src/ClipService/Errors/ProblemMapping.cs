using ClipService.Core.Imaging;
using ClipService.Core.Tokenization;

namespace ClipService.Errors;

/// <summary>What the client is told about an exception.</summary>
/// <param name="Rejection">The reason label when this is a refusal counted in clip_requests_rejected_total.</param>
internal readonly record struct Problem(int Status, string Title, string Detail, string? Rejection = null);

/// <summary>The one exception → status mapping (the exception handler answers with it; the host's error log skips what it calls a client error):
/// the framework's own request-reading failures (<see cref="FrameworkFailures"/>) first, then the service's exceptions.</summary>
internal static class ProblemMapping
{
    public const int ClientClosedRequest = 499;

    public static Problem For(Exception exception, HttpContext context) =>
        FrameworkFailures.Classify(exception, context) is var (status, title, detail)
            ? new(status, title, detail, status == StatusCodes.Status413PayloadTooLarge ? RejectionReasons.TooLarge : null)
            : For(exception, context.RequestAborted.IsCancellationRequested);

    /// <summary>The mapping for an exception raised outside a request (the evaluate command runs the engine directly).</summary>
    internal static Problem For(Exception exception, bool clientAborted) => exception switch
    {
        ServiceUnavailableException e => new(e.StatusCode, e.Title, e.Message, e.Reason),
        // Bodies over Clip:MaxRequestBytes and images at URLs over Clip:ImageUrls:MaxBytes alike.
        ClientErrorException { StatusCode: StatusCodes.Status413PayloadTooLarge } e => new(e.StatusCode, e.Title, e.Message, RejectionReasons.TooLarge),
        ClientErrorException e => new(e.StatusCode, e.Title, e.Message),
        InvalidImageException { Problem: ImageProblem.UnsupportedFormat } e => new(StatusCodes.Status415UnsupportedMediaType, "Unsupported image format", e.Message),
        InvalidImageException { Problem: ImageProblem.TooLarge } e => new(StatusCodes.Status413PayloadTooLarge, "Image too large", e.Message, RejectionReasons.TooLarge),
        InvalidImageException e => new(StatusCodes.Status400BadRequest, "Unreadable image", e.Message),
        // Text the model's tokenizer refuses (a lone surrogate for the Rust tokenizers core).
        TextNotTokenizableException e => new(StatusCodes.Status400BadRequest, "Invalid request", e.Message),
        OperationCanceledException when clientAborted => new(ClientClosedRequest, "Client closed request", "The client disconnected."),
        _ => new(StatusCodes.Status500InternalServerError, "Internal error", "The service failed to process the request; the error is logged."),
    };

    /// <summary>Client errors and refusals are answered, not failures of the service: only the rest get an error log with a stack trace.</summary>
    public static bool NeedsErrorLog(Problem problem) =>
        problem.Status is >= StatusCodes.Status500InternalServerError and not StatusCodes.Status503ServiceUnavailable;
}
