using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClipService.Limits;

/// <summary>
/// The "Clip:Connections" section: how long and how many clients may hold the server. A client must send its body
/// at least at <see cref="MinRequestBodyBytesPerSecond"/> (after a grace period), and every request ends by its
/// deadline: the time the largest body takes at that rate, plus <see cref="ProcessingAllowanceSeconds"/>.
/// </summary>
public sealed class ConnectionLimitsOptions
{
    public const string SectionName = "Clip:Connections";
    public const int DefaultMaxConcurrentConnections = 1000;
    public const int DefaultMinRequestBodyBytesPerSecond = 16 * 1024;
    public const int DefaultMinRequestBodyGraceSeconds = 5;
    public const int DefaultProcessingAllowanceSeconds = 60;

    /// <summary>Open connections at once; further ones are closed as they arrive (Kestrel's limit).</summary>
    [Range(1, 1_000_000)]
    public int MaxConcurrentConnections { get; set; } = DefaultMaxConcurrentConnections;

    /// <summary>Slowest upload accepted, in bytes per second: 16 KiB/s (128 kbit/s) leaves room for poor mobile
    /// links and cuts off a client trickling a body to hold a connection.</summary>
    [Range(1, 1 << 30)]
    public int MinRequestBodyBytesPerSecond { get; set; } = DefaultMinRequestBodyBytesPerSecond;

    /// <summary>How long a body may start slowly before the rate is enforced (Kestrel needs more than 1 s).</summary>
    [Range(2, 300)]
    public int MinRequestBodyGraceSeconds { get; set; } = DefaultMinRequestBodyGraceSeconds;

    /// <summary>The part of a request's deadline left for queueing, decoding, encoding and the response once the
    /// largest body has arrived at the slowest rate.</summary>
    [Range(1, 3600)]
    public int ProcessingAllowanceSeconds { get; set; } = DefaultProcessingAllowanceSeconds;

    /// <summary>The whole request's deadline: grace, the largest body at the slowest rate, the allowance.</summary>
    public TimeSpan RequestDeadline(long maxRequestBytes) =>
        TimeSpan.FromSeconds(MinRequestBodyGraceSeconds + Math.Ceiling((double)maxRequestBytes / MinRequestBodyBytesPerSecond) + ProcessingAllowanceSeconds);
}

[OptionsValidator]
public sealed partial class ConnectionLimitsOptionsValidator : IValidateOptions<ConnectionLimitsOptions>;
