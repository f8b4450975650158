using System.Text.RegularExpressions;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// A webhook URL is a credential: whoever knows a Slack incoming-webhook URL can post to the channel. Members of a
/// workspace see it masked (scheme, host and its last 4 characters), owners and admins in full; the audit log only ever
/// holds the masked form.
/// </summary>
internal static partial class WebhookUrls
{
    private const string Ellipsis = "…";

    /// <summary>Characters of the end shown: only when what follows the host is at least <see cref="MinHiddenForTail"/> long.</summary>
    private const int TailLength = 4;
    private const int MinHiddenForTail = 12;

    /// <summary>
    /// <c>https://hooks.slack.com/services/T0/B0/abcdXy7Q</c> → <c>https://hooks.slack.com/…Xy7Q</c>. No user info, port,
    /// path or query survives but the last 4 characters, and those only when the part after the host is long enough that
    /// they give little of it away (a short path shows as <c>…</c> alone).
    /// </summary>
    public static string Mask(string url)
    {
        var text = url.Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            return Ellipsis + Tail(text);
        }

        // Everything after the authority (user info and port included): what is hidden.
        var authorityEnd = text.IndexOf('/', uri.Scheme.Length + 3);
        var rest = authorityEnd < 0 ? "" : text[authorityEnd..];
        return $"{uri.Scheme}://{uri.Host}/{Ellipsis}{Tail(rest)}";
    }

    /// <summary>
    /// <paramref name="text"/> (a delivery's error, say) with each of <paramref name="urls"/>, its path, and any other
    /// http(s) URL replaced by its masked form: a receiver's answer or an exception may echo the address it was sent to.
    /// </summary>
    public static string? MaskIn(string? text, IEnumerable<string> urls)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var url in urls.OrderByDescending(u => u.Length))
        {
            text = text.Replace(url, Mask(url), StringComparison.OrdinalIgnoreCase);
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.PathAndQuery.Length > 1)
            {
                text = text.Replace(uri.PathAndQuery, "/" + Ellipsis, StringComparison.OrdinalIgnoreCase);
            }
        }

        return AnyUrl().Replace(text, m => m.Value.Contains(Ellipsis, StringComparison.Ordinal) ? m.Value : Mask(m.Value));
    }

    /// <summary>Masks the URLs in each delivery's error, for a member's view of the delivery log (the entities are not saved).</summary>
    public static void MaskErrors(IEnumerable<WebhookDelivery> deliveries, IReadOnlyCollection<string> channelUrls)
    {
        foreach (var delivery in deliveries)
        {
            delivery.LastError = MaskIn(delivery.LastError, channelUrls);
        }
    }

    private static string Tail(string hidden) => hidden.Length >= MinHiddenForTail ? hidden[^TailLength..] : "";

    [GeneratedRegex(@"https?://[^\s""'<>()]+", RegexOptions.IgnoreCase)]
    private static partial Regex AnyUrl();
}
