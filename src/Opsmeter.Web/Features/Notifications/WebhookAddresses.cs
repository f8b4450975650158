using System.Net;
using System.Net.Sockets;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// Which addresses a webhook must not reach by default: anything that is not a public unicast address on the internet
/// (loopback, private networks, link-local with the cloud metadata service at 169.254.169.254, CGNAT, multicast, reserved).
/// IPv6 forms that carry an IPv4 address (mapped <c>::ffff:a.b.c.d</c>, compatible <c>::a.b.c.d</c>, NAT64 <c>64:ff9b::/96</c>,
/// 6to4 <c>2002::/16</c>) are judged by that IPv4 address.
/// </summary>
internal static class WebhookAddresses
{
    private static readonly (IPNetwork Network, string Kind)[] Blocked =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "carrier-grade NAT"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "reserved"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "reserved"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "private"),
        (IPNetwork.Parse("100::/64"), "reserved"),
        (IPNetwork.Parse("2001:db8::/32"), "reserved"),
        (IPNetwork.Parse("fc00::/7"), "private"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "private"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>"loopback", "private", "link-local", …; null for a public address.</summary>
    public static string? Classify(IPAddress address)
    {
        var plain = Plain(address);
        foreach (var (network, kind) in Blocked)
        {
            if (network.BaseAddress.AddressFamily == plain.AddressFamily && network.Contains(plain))
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>The address itself, or the IPv4 address an IPv6 form carries (without any scope id).</summary>
    public static IPAddress Plain(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        var unscoped = new IPAddress(bytes);
        if (unscoped.Equals(IPAddress.IPv6Any) || unscoped.Equals(IPAddress.IPv6Loopback))
        {
            return unscoped;
        }

        return Compatible.Contains(unscoped) || Nat64.Contains(unscoped) ? new IPAddress(bytes.AsSpan(12, 4))
            : SixToFour.Contains(unscoped) ? new IPAddress(bytes.AsSpan(2, 4))
            : unscoped;
    }
}
