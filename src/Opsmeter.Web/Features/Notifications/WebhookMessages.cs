using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// The bodies sent to webhooks and their signature. A receiver checks <c>X-Opsmeter-Signature</c>, which is
/// <c>sha256=</c> and the lowercase hex HMAC-SHA256 of the exact body bytes under the channel's secret.
/// </summary>
internal static class WebhookMessages
{
    public const string SignatureHeader = "X-Opsmeter-Signature";
    public const string DeliveryHeader = "X-Opsmeter-Delivery";

    public static string Sign(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

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
