using System.Net;
using System.Net.Sockets;

namespace Opsmeter.Web.Infrastructure.RateLimits;

/// <summary>Who is calling, as far as per-address limits are concerned.</summary>
internal static class ClientAddress
{
    /// <summary>
    /// The connection's remote address (which forwarded-headers handling rewrites to the client's, behind a proxy):
    /// an IPv4 address as such, an IPv6 address by its /64, because one host is usually given a whole /64 and could
    /// otherwise rotate through its 2^64 addresses to get a fresh budget with each request.
    /// </summary>
    public static string Of(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
