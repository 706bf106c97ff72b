using System.ComponentModel.DataAnnotations;

namespace ClipService.Inference;

/// <summary>The "Clip:Inference" section: how much encoder work may run and wait at once.</summary>
public sealed class InferenceOptions
{
    public const string SectionName = "Clip:Inference";
    public const int DefaultMaxConcurrentRuns = 1;
    public const int DefaultMaxQueuedRequests = 256;
    public const int DefaultRequestTimeoutSeconds = 30;

    /// <summary>Encoder runs at once per process. On a CPU one run already uses every core (intra-op threads),
    /// so more only oversubscribes; raise it for a GPU.</summary>
    [Range(1, 64)]
    public int MaxConcurrentRuns { get; set; } = DefaultMaxConcurrentRuns;

    /// <summary>Requests that may wait for an encoder; further ones get 503 with Retry-After at once.</summary>
    [Range(0, 100_000)]
    public int MaxQueuedRequests { get; set; } = DefaultMaxQueuedRequests;

    /// <summary>How long a request may wait for an encoder before it gets 503.</summary>
    [Range(1, 3600)]
    public int RequestTimeoutSeconds { get; set; } = DefaultRequestTimeoutSeconds;
}
