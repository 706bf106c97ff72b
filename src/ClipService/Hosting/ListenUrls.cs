using System.Globalization;
using System.Net;

namespace ClipService.Hosting;

/// <summary>
/// Checks the addresses the server is told to listen on (<c>--urls</c>, <c>Urls</c>, <c>ASPNETCORE_URLS</c>) before
/// it starts. Kestrel reads a port it cannot parse as part of the host name and then listens on every interface at
/// port 80; such an address must stop the start instead.
/// </summary>
public static class ListenUrls
{
    private const string UrlsKey = "urls";

    /// <exception cref="FormatException">An address Kestrel would misread; the message names it and why.</exception>
    public static void Validate(IConfiguration configuration)
    {
        foreach (var url in (configuration[UrlsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Problem(url) is { } problem)
                throw new FormatException($"listen address '{url}' (Urls): {problem}.");
        }

        foreach (var key in new[] { "http_ports", "https_ports" })
        {
            foreach (var port in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
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
