using ClipService.Access;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace ClipService.Cors;

/// <summary>
/// CORS for the configured origins only: their preflights are answered (before authentication, since a browser sends
/// no credentials on a preflight) and their responses carry Access-Control-Allow-Origin. With no origins configured
/// there is no policy and the middleware passes everything through.
/// </summary>
public static class CrossOrigin
{
    public static IServiceCollection AddCrossOrigin(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<CrossOriginOptions>>((cors, settings) =>
        {
            if (settings.Value.AllowedOrigins.Count == 0)
                return;
            cors.AddDefaultPolicy(policy => policy
                .WithOrigins([.. settings.Value.AllowedOrigins])
                .WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders("Authorization", ApiKeyAuthenticationHandler.HeaderName, "Content-Type")
                .WithExposedHeaders("Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10)));
        });
        return services;
    }
}
