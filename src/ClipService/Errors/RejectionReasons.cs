namespace ClipService.Errors;

/// <summary>Why a request was turned away: the <c>reason</c> label of <c>clip_requests_rejected_total</c>.</summary>
public static class RejectionReasons
{
    public const string QueueFull = "queue_full";
    public const string Deadline = "deadline";
    public const string Loading = "loading";
    public const string Stopping = "stopping";
    public const string RateLimited = "rate_limited";
    public const string Unauthorized = "unauthorized";
    public const string TooLarge = "too_large";
}
