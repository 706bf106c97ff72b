using System.ComponentModel.DataAnnotations;
using ClipService.Inference;
using Microsoft.Extensions.Options;

namespace ClipService.Hosting;

/// <summary>The "Clip:Shutdown" section: how a stopping replica drains (see <see cref="GracefulDrain"/>).</summary>
public sealed class ShutdownOptions
{
    public const string SectionName = "Clip:Shutdown";
    public const int DefaultDrainDelaySeconds = 5;
    public const int DefaultTimeoutSeconds = 45;

    /// <summary>How long readiness reports 503 while the listener keeps serving, so load balancers and Kubernetes
    /// endpoints stop sending new requests before the listener closes.</summary>
    [Range(0, 300)]
    public int DrainDelaySeconds { get; set; } = DefaultDrainDelaySeconds;

    /// <summary>How long in-flight requests may run after the listener closes; longer than the request deadline
    /// (Clip:Inference:RequestTimeoutSeconds), so a request waiting for an encoder still gets its answer.</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;

    public TimeSpan Total => TimeSpan.FromSeconds(DrainDelaySeconds + TimeoutSeconds);
}

/// <summary>Checks <see cref="ShutdownOptions"/>' ranges at start (source-generated).</summary>
[OptionsValidator]
public sealed partial class ShutdownOptionsRangeValidator : IValidateOptions<ShutdownOptions>;

/// <summary>Checks the shutdown timeout against the request deadline it must outlast.</summary>
internal sealed class ShutdownOptionsValidator(IOptions<InferenceOptions> inference) : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options)
    {
        var deadline = inference.Value.RequestTimeoutSeconds;
        return options.TimeoutSeconds > deadline
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{ShutdownOptions.SectionName}:{nameof(ShutdownOptions.TimeoutSeconds)} ({options.TimeoutSeconds}) must be longer than "
                + $"{InferenceOptions.SectionName}:{nameof(InferenceOptions.RequestTimeoutSeconds)} ({deadline}), or requests still waiting for an encoder are cut off at shutdown.");
    }
}
