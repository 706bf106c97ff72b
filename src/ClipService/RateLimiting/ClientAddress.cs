using System.Net;

namespace ClipService.RateLimiting;

/// <summary>
/// The address a request came from: the connection's peer, or, when that peer is a trusted proxy, the last address
/// in X-Forwarded-For that is not itself a trusted proxy (what a client could not forge). Hops are read as an address
/// with an optional port (<c>1.2.3.4:5678</c>, <c>[2001:db8::1]:443</c>), a zone dropped (<c>fe80::1%eth0</c>) and an
/// IPv4-mapped IPv6 address taken as IPv4, so one client is one key however its proxy writes it; a hop that is no
/// address (<c>junk</c>, RFC 7239's <c>unknown</c>) ends the walk at the connection's address. ASP.NET Core's
/// ForwardedHeaders middleware would rewrite the connection's address for the whole pipeline; only the rate limiter
/// needs this, so it is read here, with the framework's <see cref="IPEndPoint.TryParse(string, out IPEndPoint?)"/>.
/// </summary>
internal static class ClientAddress
{
    public const string ForwardedForHeader = "X-Forwarded-For";

    public static string Of(HttpContext context, IReadOnlySet<IPAddress> trustedProxies)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null)
            return "unknown";
        if (!IsTrusted(peer, trustedProxies))
            return peer.ToString();

        var hops = context.Request.Headers[ForwardedForHeader].ToString()
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = hops.Length - 1; i >= 0; i--)
        {
            if (Parse(hops[i]) is not { } hop)
                break;
            if (!IsTrusted(hop, trustedProxies))
                return hop.ToString();
        }

        return Normalise(peer).ToString();
    }

    /// <summary>The address in one X-Forwarded-For hop, without port or zone; null when it holds none.</summary>
    internal static IPAddress? Parse(string hop)
    {
        var text = hop.Trim().Trim('"');
        var zone = text.IndexOf('%', StringComparison.Ordinal);
        if (zone >= 0)
        {
            var end = text.IndexOf(']', zone);
            text = end < 0 ? text[..zone] : text[..zone] + text[end..];
        }

        if (IPAddress.TryParse(text, out var address) || (IPEndPoint.TryParse(text, out var endPoint) && (address = endPoint.Address) is not null))
            return Normalise(address);
        return null;
    }

    private static IPAddress Normalise(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0)
            return new IPAddress(address.GetAddressBytes());
        return address;
    }

    private static bool IsTrusted(IPAddress address, IReadOnlySet<IPAddress> trusted) =>
        trusted.Contains(address) || (address.IsIPv4MappedToIPv6 && trusted.Contains(address.MapToIPv4()));
}
