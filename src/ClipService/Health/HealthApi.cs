using ClipService.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ClipService.Health;

/// <summary>Health status.</summary>
/// <param name="Status">Healthy, Degraded or Unhealthy.</param>
/// <param name="Checks">Each check's status and, when it says something, why.</param>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, HealthCheckStatus> Checks);

/// <param name="Status">Healthy, Degraded or Unhealthy.</param>
/// <param name="Description">What the check found.</param>
public sealed record HealthCheckStatus(string Status, string? Description);

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health").AsProbe();
        group.MapGet("/live", Live)
            .WithName("Liveness")
            .WithSummary("Liveness: the process is up and its batch workers run")
            .WithDescription("200 while the process serves HTTP and every image batch worker runs; 503 if one has died (restart the replica). For container HEALTHCHECKs and liveness probes. Never needs an API key.")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/ready", Ready)
            .WithName("Readiness")
            .WithSummary("Readiness: models loaded and warmed up, not draining or shutting down, batch workers alive")
            .WithDescription("503 with Retry-After while models load and warm up, while the process drains before it stops (and while shutting down), or when a batch worker has died; 200 otherwise. Load balancers should route only to ready replicas. Never needs an API key.")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    internal static Task<JsonHttpResult<HealthResponse>> Live(HealthCheckService health, HttpResponse response, CancellationToken cancellationToken) =>
        CheckAsync(health, HealthChecksSetup.Live, response, cancellationToken);

    internal static Task<JsonHttpResult<HealthResponse>> Ready(HealthCheckService health, HttpResponse response, CancellationToken cancellationToken) =>
        CheckAsync(health, HealthChecksSetup.Ready, response, cancellationToken);

    private static async Task<JsonHttpResult<HealthResponse>> CheckAsync(HealthCheckService health, string tag, HttpResponse response, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(tag), cancellationToken);
        var body = new HealthResponse(report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthCheckStatus(e.Value.Status.ToString(), e.Value.Description)));
        if (report.Status != HealthStatus.Unhealthy)
            return TypedResults.Json(body);
        response.Headers.RetryAfter = "2";
        return TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
