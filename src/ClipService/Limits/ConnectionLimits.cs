using System.Globalization;
using ClipService.Requests;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ClipService.Limits;

/// <summary>
/// Bounds what a slow or numerous client can hold: Kestrel's connection cap, body size and minimum body data rate,
/// and a deadline on every request (ASP.NET Core's request-timeouts middleware) sized from the largest body.
/// </summary>
public static class ConnectionLimits
{
    public static WebApplicationBuilder AddConnectionLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<ConnectionLimitsOptions>()
            .Bind(builder.Configuration.GetSection(ConnectionLimitsOptions.SectionName));
        builder.Services.AddSingleton<IValidateOptions<ConnectionLimitsOptions>, ConnectionLimitsOptionsValidator>();
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ConnectionLimitsOptions>, IOptions<RequestLimitsOptions>>(ApplyToKestrel);
        builder.Services.AddRequestTimeouts();
        builder.Services.AddOptions<RequestTimeoutOptions>()
            .Configure<IOptions<ConnectionLimitsOptions>, IOptions<RequestLimitsOptions>>((timeouts, limits, clip) =>
                timeouts.DefaultPolicy = new RequestTimeoutPolicy { Timeout = limits.Value.RequestDeadline(clip.Value.MaxRequestBytes) });
        return builder;
    }

    // Kestrel reads its options while the app is being built, before settings are validated at start. Invalid
    // settings are left to that validation, which stops the process with one line, rather than thrown from here
    // (an unhandled exception with a stack trace).
    private static void ApplyToKestrel(KestrelServerOptions kestrel, IOptions<ConnectionLimitsOptions> limitsOptions, IOptions<RequestLimitsOptions> clipOptions)
    {
        if (!TryGetValid(limitsOptions, out var limits) || !TryGetValid(clipOptions, out var clip))
            return;
        kestrel.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
        kestrel.Limits.MaxConcurrentUpgradedConnections = limits.MaxConcurrentConnections;
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(limits.MinRequestBodyGraceSeconds));
        kestrel.Limits.MaxRequestBodySize = clip.MaxRequestBytes;
    }

    private static bool TryGetValid<T>(IOptions<T> options, out T value) where T : class
    {
        try
        {
            value = options.Value;
            return true;
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
        {
            value = null!;
            return false;
        }
    }

    /// <summary>
    /// Puts the deadline around the rest of the pipeline; call it just inside the request log, so the log records what
    /// the client gets. A request past its deadline is cancelled (its RequestAborted fires); the exception handler
    /// inside takes that for a client that left, so the answer the client gets is written here: 503 with
    /// Retry-After, as for any other overload.
    /// </summary>
    public static IApplicationBuilder UseRequestDeadlines(this IApplicationBuilder app)
    {
        app.UseRequestTimeouts();
        return app.Use(AnswerRequestsPastTheirDeadline);
    }

    private static async Task AnswerRequestsPastTheirDeadline(HttpContext context, RequestDelegate next)
    {
        await next(context);
        if (context.Features.Get<IHttpRequestTimeoutFeature>() is not { } deadline || !deadline.RequestTimeoutToken.IsCancellationRequested
            || context.Response.StatusCode != StatusCodes.Status499ClientClosedRequest || context.Response.HasStarted)
        {
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "1";
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = string.Create(CultureInfo.InvariantCulture,
                    $"The request did not complete within its deadline ({Deadline(context).TotalSeconds:F0} s); retry later."),
            },
        });
    }

    private static TimeSpan Deadline(HttpContext context)
    {
        var services = context.RequestServices;
        return services.GetRequiredService<IOptions<ConnectionLimitsOptions>>().Value
            .RequestDeadline(services.GetRequiredService<IOptions<RequestLimitsOptions>>().Value.MaxRequestBytes);
    }
}
