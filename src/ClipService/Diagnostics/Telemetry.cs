using ClipService.Access;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ClipService.Diagnostics;

/// <summary>
/// OpenTelemetry: metrics (the service's meter, ASP.NET Core's, Kestrel's and the runtime's) exported in the
/// Prometheus text format at GET /metrics; traces (ASP.NET Core request spans with the service's child spans)
/// exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, nowhere otherwise.
/// </summary>
public static class Telemetry
{
    public const string MetricsPath = "/metrics";
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private static readonly string[] Meters =
    [
        ClipMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting", "System.Runtime",
    ];

    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ClipMetrics>();
        services.AddHostedService<ClipObservedMetrics>();
        services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter())
            .WithTracing(tracing =>
            {
                tracing.AddSource(ClipTracing.SourceName)
                    .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbePath(context.Request.Path));
                if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable]))
                    tracing.AddOtlpExporter();
            });
        return services;
    }

    /// <summary>GET /metrics, open like the health endpoints unless Clip:Metrics:RequireApiKey.</summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath)
            .AsProbe(requireApiKey: services => services.GetRequiredService<IOptions<MetricsOptions>>().Value.RequireApiKey);
        return app;
    }

    // Probes and scrapes arrive every few seconds from every balancer and scraper: no traces for them.
    private static bool IsProbePath(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase);
}
