using ClipService.Hosting;
using ClipService.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClipService.Health;

/// <summary>Health status.</summary>
/// <param name="Status">"Healthy", "Loading" or "Draining".</param>
/// <param name="Models">Models loaded (readiness only).</param>
public sealed record HealthStatus(string Status, int? Models = null);

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health");
        group.MapGet("/live", Live)
            .WithName("Liveness")
            .WithSummary("Liveness: the process is up")
            .WithDescription("200 whenever the process serves HTTP. For container HEALTHCHECKs and liveness probes.");
        group.MapGet("/ready", Ready)
            .WithName("Readiness")
            .WithSummary("Readiness: models loaded and warmed up")
            .WithDescription("503 while models load and warm up, 200 after, 503 again while the process drains before it stops. Load balancers should route only to ready replicas.")
            .Produces<HealthStatus>()
            .Produces<HealthStatus>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    internal static Ok<HealthStatus> Live() => TypedResults.Ok(new HealthStatus("Healthy"));

    internal static Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>> Ready(ModelRegistry registry, DrainState drain, HttpResponse response)
    {
        if (drain.IsDraining)
        {
            response.Headers.RetryAfter = "2";
            return TypedResults.Json(new HealthStatus("Draining", registry.Models.Count), statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (registry.IsReady)
            return TypedResults.Ok(new HealthStatus("Healthy", registry.Models.Count));
        response.Headers.RetryAfter = "2";
        return TypedResults.Json(new HealthStatus("Loading", 0), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
