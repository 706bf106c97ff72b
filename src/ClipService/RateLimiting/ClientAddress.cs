using System.Net;

namespace ClipService.RateLimiting;

/// <summary>
/// The address a request came from: the connection's peer, or, when that peer is a trusted proxy, the last address
/// in X-Forwarded-For that is not itself a trusted proxy (what a client could not forge).
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
            if (!IPAddress.TryParse(hops[i], out var hop))
                return hops[i];
            if (!IsTrusted(hop, trustedProxies))
                return hop.ToString();
        }

        return peer.ToString();
    }

    private static bool IsTrusted(IPAddress address, IReadOnlySet<IPAddress> trusted) =>
        trusted.Contains(address) || (address.IsIPv4MappedToIPv6 && trusted.Contains(address.MapToIPv4()));
}
