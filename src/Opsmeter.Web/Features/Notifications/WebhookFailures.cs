using System.Net.Sockets;
using System.Security.Authentication;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// What the delivery log says of a failed attempt: a short reason a workspace's people can act on ("timeout", "TLS error",
/// "refused: private address"), never an exception's text, which would show internals (and may echo the receiver's words).
/// </summary>
internal static class WebhookFailures
{
    public const string Timeout = "timeout";

    public static string Status(int statusCode) => $"HTTP {statusCode}";

    public static string Describe(Exception e)
    {
        if (Find<WebhookAddressRefusedException>(e) is { } refused)
        {
            return refused.Message;
        }

        if (e is OperationCanceledException || Find<TimeoutException>(e) is not null)
        {
            return Timeout;
        }

        if (Find<AuthenticationException>(e) is not null || e is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError })
        {
            return "TLS error";
        }

        return Find<SocketException>(e)?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "host not found",
            SocketError.TimedOut => Timeout,
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => "host unreachable",
            SocketError.ConnectionReset or SocketError.ConnectionAborted => "connection reset",
            _ => (e as HttpRequestException)?.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => "host not found",
                HttpRequestError.ConnectionError => "connection failed",
                HttpRequestError.ResponseEnded => "connection closed before a response",
                HttpRequestError.InvalidResponse or HttpRequestError.HttpProtocolError => "invalid HTTP response",
                HttpRequestError.ConfigurationLimitExceeded => "response headers too large",
                _ => "request failed",
            },
        };
    }

    private static T? Find<T>(Exception? e)
        where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
