using Microsoft.AspNetCore.Http;

namespace ClipService.Hosting;

/// <summary>
/// Where the service listens. The standard ASP.NET Core settings win (<c>--urls</c>, <c>ASPNETCORE_URLS</c>,
/// <c>ASPNETCORE_HTTP_PORTS</c> / <c>HTTPS_PORTS</c>, <c>Urls</c>, <c>Kestrel:Endpoints</c>); with none of them set the
/// service serves <see cref="DefaultUrl"/>. The default is applied in code, not in appsettings.json, because a
/// <c>Urls</c> there would override <c>ASPNETCORE_URLS</c> (appsettings.json is read after the ASPNETCORE_ variables).
/// </summary>
public static class ListeningAddress
{
    public const string DefaultUrl = "http://localhost:8080";

    private const string KestrelEndpointsSection = "Kestrel:Endpoints";

    public static WebApplicationBuilder UseDefaultListeningAddress(this WebApplicationBuilder builder)
    {
        if (!IsConfigured(builder.Configuration))
            builder.WebHost.UseUrls(DefaultUrl);
        return builder;
    }

    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
        || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
        || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey])
        || configuration.GetSection(KestrelEndpointsSection).Exists();

    /// <summary>The address a client on the same machine (or in the same container) reaches the service on:
    /// the first configured URL, with a wildcard host replaced by the loopback address.</summary>
    public static Uri LocalUri(IConfiguration configuration)
    {
        if (FirstOf(configuration[WebHostDefaults.ServerUrlsKey]) is { } url)
        {
            // BindingAddress understands the wildcard forms (http://+:8080, http://*:8080) that Uri rejects.
            var address = BindingAddress.Parse(url);
            var host = address.Host is "+" or "*" or "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : address.Host;
            return new UriBuilder(address.Scheme, host, address.Port).Uri;
        }

        if (FirstOf(configuration[WebHostDefaults.HttpPortsKey]) is { } httpPort)
            return new UriBuilder(Uri.UriSchemeHttp, "127.0.0.1", int.Parse(httpPort, System.Globalization.CultureInfo.InvariantCulture)).Uri;
        if (FirstOf(configuration[WebHostDefaults.HttpsPortsKey]) is { } httpsPort)
            return new UriBuilder(Uri.UriSchemeHttps, "127.0.0.1", int.Parse(httpsPort, System.Globalization.CultureInfo.InvariantCulture)).Uri;
        return new Uri(DefaultUrl);
    }

    private static string? FirstOf(string? list) =>
        list?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is [var first, ..] ? first : null;
}
