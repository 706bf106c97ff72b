using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace ClipService.Hosting;

/// <summary>
/// Where the service listens. The standard ASP.NET Core settings win (<c>--urls</c>, <c>ASPNETCORE_URLS</c>,
/// <c>ASPNETCORE_HTTP_PORTS</c> / <c>HTTPS_PORTS</c>, <c>Urls</c>, <c>Kestrel:Endpoints</c>); with none of them set the
/// service serves <see cref="DefaultUrl"/>, and an address Kestrel would misread stops the start. The default is applied in code, not in appsettings.json, because a
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
            return new UriBuilder(Uri.UriSchemeHttp, "127.0.0.1", int.Parse(httpPort, CultureInfo.InvariantCulture)).Uri;
        if (FirstOf(configuration[WebHostDefaults.HttpsPortsKey]) is { } httpsPort)
            return new UriBuilder(Uri.UriSchemeHttps, "127.0.0.1", int.Parse(httpsPort, CultureInfo.InvariantCulture)).Uri;
        return new Uri(DefaultUrl);
    }

    private static string? FirstOf(string? list) => Entries(list) is [var first, ..] ? first : null;

    // ASP.NET Core's form for several addresses or ports in one setting.
    private static string[] Entries(string? list) =>
        (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Checks the addresses the server is told to listen on before it starts. Kestrel reads a port it cannot parse as
    /// part of the host name and then listens on every interface at port 80; such an address must stop the start.
    /// </summary>
    /// <exception cref="FormatException">An address Kestrel would misread; the message names it and why.</exception>
    public static void Validate(IConfiguration configuration)
    {
        foreach (var url in Entries(configuration[WebHostDefaults.ServerUrlsKey]))
        {
            if (Problem(url) is { } problem)
                throw new FormatException($"listen address '{url}' (Urls): {problem}.");
        }

        foreach (var key in new[] { WebHostDefaults.HttpPortsKey, WebHostDefaults.HttpsPortsKey })
        {
            foreach (var port in Entries(configuration[key]))
            {
                if (!IsPort(port))
                    throw new FormatException($"{key} '{port}' is not a port number from 0 to 65535.");
            }
        }
    }

    private static string? Problem(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
            return "not of the form http://HOST:PORT";
        var scheme = url[..schemeEnd];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
            return $"the scheme '{scheme}' is neither http nor https";

        var rest = url[(schemeEnd + 3)..];
        // Kestrel's own forms for a Unix socket and a named pipe carry a path where the port would be.
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("pipe:", StringComparison.OrdinalIgnoreCase))
            return null;

        var authority = rest.Split('/', 2)[0];
        string host;
        string? port = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
                return "the IPv6 address has no closing ']'";
            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':'))
                    return $"'{after}' follows the IPv6 address";
                port = after[1..];
            }

            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                return $"'{host}' is not an IPv6 address";
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            (host, port) = colon < 0 ? (authority, null) : (authority[..colon], authority[(colon + 1)..]);
            if (host.Length == 0)
                return "the host is missing";
            if (host is not ("*" or "+") && host.Trim('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.').Length == 0
                && !IPAddress.TryParse(host, out _))
            {
                return $"'{host}' is not an IPv4 address";
            }

            if (host is not ("*" or "+") && Uri.CheckHostName(host) == UriHostNameType.Unknown)
                return $"'{host}' is not a host name or IP address";
        }

        return port is null || IsPort(port) ? null : $"the port '{port}' is not a number from 0 to 65535";
    }

    private static bool IsPort(string port) =>
        port.Length is > 0 and <= 5 && int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= 65535;
}
