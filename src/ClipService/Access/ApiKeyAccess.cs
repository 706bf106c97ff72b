using ClipService.Diagnostics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;

namespace ClipService.Access;

/// <summary>
/// API-key access control: every endpoint needs a valid key once one is configured, except those marked
/// <see cref="ProbeEndpoints.AsProbe"/>. Enforced by ASP.NET Core's authorization fallback policy. Requests that match
/// no endpoint (the try-it page's static files, 404s) need none: the page must load for a user to type the key into it.
/// </summary>
public static class ApiKeyAccess
{
    public static IServiceCollection AddApiKeyAccess(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddHostedService<ApiKeyFileWatcher>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ApiKeyRequirementHandler>();
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName)
            .AddRequirements(new ApiKeyRequirement()).Build());
        return services;
    }

    /// <summary>Met when no key is configured, the request carries a valid key, or it is for no endpoint or an exempt one.</summary>
    private sealed class ApiKeyRequirement : IAuthorizationRequirement;

    private sealed class ApiKeyRequirementHandler(ApiKeyStore keys, IServiceProvider services) : AuthorizationHandler<ApiKeyRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyRequirement requirement)
        {
            var endpoint = (context.Resource as HttpContext)?.GetEndpoint();
            if (!keys.Enabled || context.User.Identity?.IsAuthenticated == true || endpoint is null
                || endpoint.Metadata.GetMetadata<ApiKeyExemption>()?.Applies(services) == true)
                context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}

/// <summary>Endpoint metadata: no API key needed while <see cref="Applies"/> says so.</summary>
public sealed record ApiKeyExemption(Func<IServiceProvider, bool> Applies);

public static class ProbeEndpoints
{
    /// <summary>
    /// Marks endpoints that load balancers, orchestrators and scrapers call: no API key (unless
    /// <paramref name="requireApiKey"/> says so at request time), no rate limit, logged at Debug.
    /// </summary>
    public static TBuilder AsProbe<TBuilder>(this TBuilder builder, Func<IServiceProvider, bool>? requireApiKey = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiKeyExemption(services => requireApiKey?.Invoke(services) != true), QuietRequestLog.Instance)
            .DisableRateLimiting();
}
