using System.Net;
using System.Net.Sockets;

namespace ClipService.ImageUrls;

/// <summary>The host resolved only to addresses the service may not connect to.</summary>
public sealed class ForbiddenAddressException(string host) : Exception($"'{host}' resolves to a loopback, private or link-local address.")
{
    public string Host { get; } = host;
}

/// <summary>
/// Which addresses are on the public internet: none in <see cref="SpecialPurposeAddresses"/>, and, for the IPv6 forms
/// that carry an IPv4 address, that address too (checked as IPv4).
/// </summary>
internal static class NetworkAddresses
{
    public static bool IsPublic(IPAddress address)
    {
        var embedded = EmbeddedIPv4(address);
        if (embedded.Count > 0)
            return embedded.TrueForAll(IsPublic);
        return SpecialPurposeAddresses.Find(address) is null;
    }

    /// <summary>
    /// The IPv4 addresses an IPv6 address carries: IPv4-mapped <c>::ffff:0:0/96</c> and IPv4-compatible <c>::/96</c>
    /// (RFC 4291), IPv4-translated <c>::ffff:0:0:0/96</c> (SIIT, RFC 2765), NAT64's well-known <c>64:ff9b::/96</c>
    /// (RFC 6052), 6to4 <c>2002::/16</c> (RFC 3056, bits 16-47) and Teredo <c>2001::/32</c> (RFC 4380: the server in
    /// bits 32-63, the client's address inverted in the last 32).
    /// </summary>
    internal static List<IPAddress> EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return [];
        var b = address.GetAddressBytes();
        static bool Zero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);
        var last = new IPAddress(b.AsSpan(12, 4));
        if (Zero(b.AsSpan(0, 10)) && b[10] == 0xFF && b[11] == 0xFF)
            return [last]; // IPv4-mapped
        if (Zero(b.AsSpan(0, 8)) && b[8] == 0xFF && b[9] == 0xFF && Zero(b.AsSpan(10, 2)))
            return [last]; // IPv4-translated (SIIT)
        if (Zero(b.AsSpan(0, 12)) && !Zero(b.AsSpan(12, 3)))
            return [last]; // IPv4-compatible (:: and ::1 are left to the table)
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && Zero(b.AsSpan(4, 8)))
            return [last]; // NAT64 well-known prefix
        if (b[0] == 0x20 && b[1] == 0x02)
            return [new IPAddress(b.AsSpan(2, 4))]; // 6to4
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
        {
            var client = b.AsSpan(12, 4).ToArray();
            for (var i = 0; i < client.Length; i++)
                client[i] ^= 0xFF;
            return [new IPAddress(b.AsSpan(4, 4)), new IPAddress(client)]; // Teredo
        }

        return [];
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
