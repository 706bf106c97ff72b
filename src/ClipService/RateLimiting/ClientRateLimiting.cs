using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using ClipService.Diagnostics;
using ClipService.Errors;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ClipService.RateLimiting;

/// <summary>
/// ASP.NET Core's rate limiter, one fixed one-minute window per client (<see cref="RateLimitingOptions"/>,
/// <see cref="ClientWindowLimiter"/>): beyond the permits a request gets 429 with Retry-After (the seconds left in the
/// client's window) and a ProblemDetails body. Probe endpoints are not limited, nor are
/// requests for no endpoint (the try-it page's files): the limit is on the API.
/// </summary>
public static class ClientRateLimiting
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitingOptions>>((limiter, settings) =>
        {
            var permits = settings.Value.PermitsPerMinute;
            var trusted = settings.Value.TrustedProxies.Select(IPAddress.Parse).ToHashSet();
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = RejectAsync;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => permits == 0 || context.GetEndpoint() is null
                ? RateLimitPartition.GetNoLimiter("")
                : RateLimitPartition.Get(ClientOf(context, trusted), _ => new ClientWindowLimiter(permits, Window, TimeProvider.System)));
        });
        return services;
    }

    // An authenticated client is its API key (hashed); anyone else is their address.
    private static string ClientOf(HttpContext context, IReadOnlySet<IPAddress> trusted) =>
        context.User.Identity is { IsAuthenticated: true, Name: { } client } ? client : ClientAddress.Of(context, trusted);

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        context.RequestServices.GetRequiredService<ClipMetrics>().Rejected(RejectionReasons.RateLimited);
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : Window;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"This client's limit of requests per minute (Clip:RateLimiting:PermitsPerMinute) is used up; retry in {seconds} s.",
            },
        });
    }
}
