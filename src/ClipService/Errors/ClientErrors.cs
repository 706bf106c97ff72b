namespace ClipService.Errors;

/// <summary>A request the service refuses; the message is shown to the client as the ProblemDetails detail.</summary>
public class ClientErrorException(int statusCode, string title, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string Title { get; } = title;
}

/// <summary>400: the request is malformed or a field is invalid.</summary>
public sealed class BadRequestException(string message) : ClientErrorException(StatusCodes.Status400BadRequest, "Invalid request", message);

/// <summary>404: the request names a model that is not loaded.</summary>
public sealed class ModelNotFoundException(string name, IEnumerable<string> available)
    : ClientErrorException(StatusCodes.Status404NotFound, "Unknown model",
        $"No model named '{name}'. Loaded models: {string.Join(", ", available.Order(StringComparer.Ordinal))}.");

/// <summary>415: the request's content type is not one the endpoint accepts.</summary>
public sealed class UnsupportedMediaTypeException(string message)
    : ClientErrorException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", message);

/// <summary>503 with Retry-After: overloaded, timed out in the queue, or not ready yet.</summary>
/// <param name="reason">Why, as counted in clip_requests_rejected_total (<see cref="RejectionReasons"/>).</param>
public sealed class ServiceUnavailableException(string message, TimeSpan retryAfter, string reason = RejectionReasons.QueueFull)
    : ClientErrorException(StatusCodes.Status503ServiceUnavailable, "Service unavailable", message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
    public string Reason { get; } = reason;
}

/// <summary>413: the request body is larger than Clip:MaxRequestBytes.</summary>
public sealed class PayloadTooLargeException(long limit)
    : ClientErrorException(StatusCodes.Status413PayloadTooLarge, "Request too large", $"The request body exceeds the limit of {limit:N0} bytes (Clip:MaxRequestBytes).");
