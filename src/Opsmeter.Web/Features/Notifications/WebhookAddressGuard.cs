using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// Keeps webhooks away from internal addresses. The real guard is <see cref="ConnectAsync"/>, the webhook client's connect
/// step: it resolves the host itself and opens the socket only to the addresses it has just judged, so a name that resolved
/// to a public address when the channel was saved and to 127.0.0.1 now (DNS rebinding) is still refused.
/// <see cref="CheckUrlAsync"/> only gives the channel form an early, clear error.
/// </summary>
internal sealed class WebhookAddressGuard
{
    private static readonly TimeSpan FormLookupTimeout = TimeSpan.FromSeconds(3);
    private readonly HashSet<string> allowedHosts;
    private readonly IPNetwork[] allowedNetworks;

    public WebhookAddressGuard(IOptions<WebhookOptions> options)
    {
        allowedHosts = options.Value.AllowedHosts.Where(h => !string.IsNullOrWhiteSpace(h)).Select(Bare).ToHashSet(StringComparer.OrdinalIgnoreCase);
        allowedNetworks = [.. options.Value.AllowedNetworks.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => IPNetwork.Parse(n.Trim()))];
    }

    /// <summary>Why <paramref name="host"/> may not connect to <paramref name="address"/> ("loopback", …), or null when it may.</summary>
    public string? Refusal(string host, IPAddress address)
    {
        if (allowedHosts.Contains(Bare(host)))
        {
            return null;
        }

        var kind = WebhookAddresses.Classify(address);
        var plain = WebhookAddresses.Plain(address);
        return kind is null || allowedNetworks.Any(n => n.BaseAddress.AddressFamily == plain.AddressFamily && n.Contains(plain)) ? null : kind;
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: connects only to addresses of the host that <see cref="Refusal"/> lets through.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var (host, port) = (context.DnsEndPoint.Host, context.DnsEndPoint.Port);
        var addresses = IPAddress.TryParse(Bare(host), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var permitted = addresses.Where(a => Refusal(host, a) is null).ToArray();
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        if (permitted.Length == 0)
        {
            throw new WebhookAddressRefusedException(Refusal(host, addresses[0])!);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted, port, ct);
            // Belt and braces: judge the address the socket actually reached, not only those it was given.
            if (socket.RemoteEndPoint is IPEndPoint remote && Refusal(host, remote.Address) is { } kind)
            {
                throw new WebhookAddressRefusedException(kind);
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// For the channel form: an error when the URL's host is an IP literal that is refused, or a name all of whose addresses
    /// are; null otherwise (a name that does not resolve now is left to the delivery, whose log will say so).
    /// </summary>
    public async Task<string?> CheckUrlAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.IdnHost.Length == 0)
        {
            return null;
        }

        var host = uri.IdnHost;
        IPAddress[] addresses;
        if (IPAddress.TryParse(Bare(host), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, ct).WaitAsync(FormLookupTimeout, ct);
            }
            catch (Exception e) when (e is SocketException or TimeoutException or ArgumentException)
            {
                return null;
            }
        }

        var refusals = addresses.Select(a => (Address: a, Kind: Refusal(host, a))).ToList();
        if (refusals.Count == 0 || refusals.Any(r => r.Kind is null))
        {
            return null;
        }

        var (address, kind) = refusals[0];
        var what = literal is null ? $"{host} resolves to {address}, a {kind} address" : $"{address} is a {kind} address";
        return $"Refused: {what}. Webhooks may not reach loopback, private, link-local or other internal addresses "
            + "unless the server's operator allows the host or network (Opsmeter:Webhooks:AllowedHosts, AllowedNetworks).";
    }

    private static string Bare(string host) => host.Trim().TrimStart('[').TrimEnd(']');
}

/// <summary>Thrown by the connect step; the delivery log shows "refused: {kind} address".</summary>
internal sealed class WebhookAddressRefusedException(string kind) : Exception($"refused: {kind} address")
{
    public string Kind { get; } = kind;
}
