using ClipService.Hosting;
using ClipService.Inference;
using ClipService.Models;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ClipService.Health;

/// <summary>The checks behind /health/live (<see cref="Live"/>) and /health/ready (<see cref="Ready"/>).</summary>
public static class HealthChecksSetup
{
    public const string Live = "live";
    public const string Ready = "ready";

    public static IServiceCollection AddClipHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<ModelsLoadedCheck>("models", tags: [Ready])
            .AddCheck<NotStoppingCheck>("not-stopping", tags: [Ready])
            .AddCheck<BatchWorkersCheck>("batch-workers", tags: [Live, Ready]);
        return services;
    }
}

/// <summary>Every model loaded and warmed up.</summary>
internal sealed class ModelsLoadedCheck(ModelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(registry.IsReady
            ? HealthCheckResult.Healthy($"{registry.Models.Count} model(s) loaded and warmed up.")
            : HealthCheckResult.Unhealthy("Models are loading and warming up."));
}

/// <summary>The replica is neither draining (SIGTERM received: still serving while load balancers take it out) nor
/// shutting down; either way it should get no new requests.</summary>
internal sealed class NotStoppingCheck(IHostApplicationLifetime lifetime, DrainState drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.IsDraining ? HealthCheckResult.Unhealthy("The service is draining before it stops.")
            : lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("The service is shutting down.")
            : HealthCheckResult.Healthy());
}

/// <summary>Every started image batch worker is still running: a dead one would leave its model's requests waiting forever.</summary>
internal sealed class BatchWorkersCheck(ImageBatchers batchers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var dead = batchers.Started.Where(b => !b.Batcher.IsWorkerRunning).ToList();
        return Task.FromResult(dead.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"The image batch worker of {string.Join(", ", dead.Select(d => d.Model))} has stopped.",
                dead[0].Batcher.WorkerFailure));
    }
}
