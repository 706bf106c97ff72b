using System.Net;
using System.Net.Sockets;

namespace ClipService.ImageUrls;

/// <summary>
/// The address blocks an image URL may not reach: those IANA's special-purpose registries mark as not globally
/// reachable (or deprecated), plus multicast and IPv6 site-local. Sources, as of 2025:
/// IANA IPv4 Special-Purpose Address Registry (https://www.iana.org/assignments/iana-ipv4-special-registry/) and
/// IANA IPv6 Special-Purpose Address Registry (https://www.iana.org/assignments/iana-ipv6-special-registry/).
/// Forms that carry an IPv4 address inside an IPv6 one (IPv4-mapped and -compatible, SIIT's IPv4-translated, NAT64's
/// well-known prefix, 6to4, Teredo's server and client) are not in this table: <see cref="NetworkAddresses"/> unwraps
/// them and checks the IPv4 address.
/// </summary>
internal static class SpecialPurposeAddresses
{
    public sealed record Block(IPAddress Prefix, int Length, string Name)
    {
        public bool Contains(IPAddress address)
        {
            if (address.AddressFamily != Prefix.AddressFamily)
                return false;
            var a = address.GetAddressBytes();
            var p = Prefix.GetAddressBytes();
            var full = Length / 8;
            if (!a.AsSpan(0, full).SequenceEqual(p.AsSpan(0, full)))
                return false;
            var rest = Length % 8;
            if (rest == 0)
                return true;
            var mask = (byte)(0xFF << (8 - rest));
            return (a[full] & mask) == (p[full] & mask);
        }
    }

    private static Block B(string cidr, string name)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        return new Block(IPAddress.Parse(cidr[..slash]), int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture), name);
    }

    public static IReadOnlyList<Block> IPv4 { get; } =
    [
        B("0.0.0.0/8", "\"This network\" (RFC 791)"),
        B("10.0.0.0/8", "Private-Use (RFC 1918)"),
        B("100.64.0.0/10", "Shared Address Space (RFC 6598)"),
        B("127.0.0.0/8", "Loopback (RFC 1122)"),
        B("169.254.0.0/16", "Link Local (RFC 3927)"),
        B("172.16.0.0/12", "Private-Use (RFC 1918)"),
        B("192.0.0.0/24", "IETF Protocol Assignments (RFC 6890), DS-Lite, NAT64/DNS64 discovery"),
        B("192.0.2.0/24", "Documentation TEST-NET-1 (RFC 5737)"),
        B("192.88.99.0/24", "Deprecated 6to4 Relay Anycast (RFC 7526)"),
        B("192.168.0.0/16", "Private-Use (RFC 1918)"),
        B("198.18.0.0/15", "Benchmarking (RFC 2544)"),
        B("198.51.100.0/24", "Documentation TEST-NET-2 (RFC 5737)"),
        B("203.0.113.0/24", "Documentation TEST-NET-3 (RFC 5737)"),
        B("224.0.0.0/4", "Multicast (RFC 5771)"),
        B("240.0.0.0/4", "Reserved (RFC 1112), limited broadcast 255.255.255.255/32 (RFC 919)"),
    ];

    public static IReadOnlyList<Block> IPv6 { get; } =
    [
        B("::1/128", "Loopback Address (RFC 4291)"),
        B("::/128", "Unspecified Address (RFC 4291)"),
        B("64:ff9b:1::/48", "IPv4-IPv6 Translat., local use (RFC 8215)"),
        B("100::/64", "Discard-Only Address Block (RFC 6666)"),
        B("100:0:0:1::/64", "Dummy IPv6 Prefix (RFC 9780)"),
        B("2001::/23", "IETF Protocol Assignments (RFC 2928), benchmarking, ORCHID"),
        B("2001:db8::/32", "Documentation (RFC 3849)"),
        B("3fff::/20", "Documentation (RFC 9637)"),
        B("5f00::/16", "Segment Routing SIDs (RFC 9602)"),
        B("fc00::/7", "Unique-Local (RFC 4193)"),
        B("fe80::/10", "Link-Local Unicast (RFC 4291)"),
        B("fec0::/10", "Deprecated site-local (RFC 3879)"),
        B("ff00::/8", "Multicast (RFC 4291)"),
    ];

    /// <summary>Blocks inside 2001::/23 that the IPv6 registry marks globally reachable.</summary>
    public static IReadOnlyList<Block> IPv6GloballyReachable { get; } =
    [
        B("2001:1::1/128", "Port Control Protocol Anycast (RFC 7723)"),
        B("2001:1::2/128", "TURN Anycast (RFC 8155)"),
        B("2001:1::3/128", "DNS-SD SRP Anycast (RFC 9665)"),
        B("2001:3::/32", "AMT (RFC 7450)"),
        B("2001:4:112::/48", "AS112-v6 (RFC 7535)"),
        B("2001:20::/28", "ORCHIDv2 (RFC 7343)"),
        B("2001:30::/28", "Drone Remote ID Protocol Entity Tags (RFC 9374)"),
    ];

    /// <summary>The block <paramref name="address"/> (not an IPv4-embedding form) falls in, or null.</summary>
    public static Block? Find(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return IPv4.FirstOrDefault(b => b.Contains(address));
        if (IPv6GloballyReachable.Any(b => b.Contains(address)))
            return null;
        return IPv6.FirstOrDefault(b => b.Contains(address));
    }
}
