using System.Net;
using System.Net.Sockets;

namespace ClipService.ImageUrls;

/// <summary>The host resolved only to addresses the service may not connect to.</summary>
public sealed class ForbiddenAddressException(string host) : Exception($"'{host}' resolves to a loopback, private or link-local address.")
{
    public string Host { get; } = host;
}

/// <summary>Which addresses are not on the public internet: loopback, private, link-local, carrier-grade NAT, multicast, unspecified.</summary>
internal static class NetworkAddresses
{
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
            return false;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var first = address.GetAddressBytes()[0];
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (first & 0xFE) == 0xFC);
        }

        var b = address.GetAddressBytes();
        return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127));
    }

    /// <summary>
    /// Connects to the first permitted address of the host, so the check applies to the address actually used
    /// (a name that resolves differently on a second lookup cannot slip through).
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowPrivate, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var permitted = allowPrivate ? addresses : [.. addresses.Where(IsPublic)];
        if (permitted.Length == 0)
            throw new ForbiddenAddressException(endpoint.Host);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
