namespace ClipService.Errors;

/// <summary>
/// The framework's own failures while reading a request (Kestrel, the multipart reader, form and JSON readers),
/// told apart from real faults: each is the client's doing and gets a 4xx naming what was wrong, with any echoed
/// text cut short. Only a body over the size limit is a 413.
/// </summary>
public static class FrameworkFailures
{
    private const string TooLarge = "The request body exceeds the size limit (Clip:MaxRequestBytes).";

    public static (int Status, string Title, string Detail)? Classify(Exception exception, HttpContext context) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (StatusCodes.Status413PayloadTooLarge, "Request too large", TooLarge),
        BadHttpRequestException e => (e.StatusCode, "Bad request", Echo.Of(e.Message)),
        InvalidDataException e when e.Message.StartsWith("Multipart body length limit", StringComparison.Ordinal) =>
            (StatusCodes.Status413PayloadTooLarge, "Request too large", TooLarge),
        // Boundary too long, a part's header line or headers too long, too many form fields, a field too long.
        InvalidDataException e => (StatusCodes.Status400BadRequest, "Malformed request body", Echo.Of(e.Message)),
        // The multipart reader's way of saying the body ended before its closing boundary.
        IOException e when FromRequestReader(e) && !context.RequestAborted.IsCancellationRequested =>
            (StatusCodes.Status400BadRequest, "Malformed request body", "The body ended before the multipart form was complete (no closing boundary)."),
        // Kestrel's framing errors surfacing through the body stream, such as a chunk size that overflows.
        IOException e when e.Source == "Microsoft.AspNetCore.Server.Kestrel.Core" && !context.RequestAborted.IsCancellationRequested =>
            (StatusCodes.Status400BadRequest, "Malformed request body", Echo.Of(e.Message)),
        // An unknown charset in the content type (JSON reader).
        InvalidOperationException e when FromRequestReader(e) && e.Message.Contains("charset", StringComparison.OrdinalIgnoreCase) =>
            (StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", Echo.Of(e.Message)),
        _ => null,
    };

    private static bool FromRequestReader(Exception e) =>
        e.Source is "Microsoft.AspNetCore.WebUtilities" or "Microsoft.AspNetCore.Http" or "Microsoft.AspNetCore.Http.Extensions";

}
