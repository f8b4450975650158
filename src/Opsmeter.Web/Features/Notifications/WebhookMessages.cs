using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// The bodies sent to webhooks and their signature. A receiver checks <c>X-Opsmeter-Signature: t=1767225600,v1=5257a8…</c>:
/// <c>t</c> is when it was signed (Unix seconds), <c>v1</c> the lowercase hex HMAC-SHA256, under the channel's secret, of
/// <c>t</c>, a dot and the exact body bytes (Stripe's scheme). The timestamp lets a receiver refuse a replayed request.
/// </summary>
internal static class WebhookMessages
{
    public const string SignatureHeader = "X-Opsmeter-Signature";
    public const string DeliveryHeader = "X-Opsmeter-Delivery";

    public static string Sign(string secret, DateTimeOffset signedAt, string body)
    {
        var timestamp = signedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }

    /// <summary>A new channel secret: 256 random bits, with a prefix that says what it is.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Values from events (user ids, tags) are not trusted: Slack reads &lt;…&gt; as mentions and links and backticks as code
    /// spans, so the control characters are escaped (as Slack documents) and backticks dropped.
    /// </summary>
    public static string SlackText(string value) => value.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal);

    public static string Test(string format, WebhookChannel channel, DateTimeOffset now) => format == WebhookFormats.Slack
        ? JsonSerializer.Serialize(new { text = $"Opsmeter test message for channel '{SlackText(channel.Name)}'. Budget incidents will arrive here." }, JsonSerializerOptions.Web)
        : JsonSerializer.Serialize(new { type = "test", workspaceId = channel.WorkspaceId, channel = channel.Name, sentAt = now }, JsonSerializerOptions.Web);
}
