using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Opsmeter.Web.Features.Budgets;

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

    public static string Incident(string format, Incident incident, Budget budget, IReadOnlyList<SpendDriver> drivers, DateTimeOffset now)
    {
        var utilization = BudgetRules.Utilization(incident.SpendUsd, incident.LimitUsd);
        if (format == WebhookFormats.Slack)
        {
            var headline = string.Create(CultureInfo.InvariantCulture,
                $"{(incident.Level == BudgetRules.Exceeded ? ":rotating_light:" : ":warning:")} Budget *{SlackText(budget.Name)}* {incident.Level}: {incident.SpendUsd:0.00} of {incident.LimitUsd:0.00} USD ({utilization:P0}) this {budget.Period} period");
            var top = string.Join("\n", drivers.Take(8).Select(d => string.Create(CultureInfo.InvariantCulture, $"• {d.Dimension} `{SlackText(d.Value)}`: {d.CostUsd:0.00} USD")));
            return JsonSerializer.Serialize(new
            {
                text = headline,
                blocks = new object[]
                {
                    new { type = "section", text = new { type = "mrkdwn", text = headline } },
                    new { type = "section", text = new { type = "mrkdwn", text = top.Length == 0 ? "No spend drivers recorded." : "*Top drivers*\n" + top } },
                },
            }, JsonSerializerOptions.Web);
        }

        return JsonSerializer.Serialize(new
        {
            type = "budget.incident",
            workspaceId = incident.WorkspaceId,
            incident = IncidentResponse.From(incident),
            budget = BudgetResponse.From(budget),
            spendUsd = incident.SpendUsd,
            limitUsd = incident.LimitUsd,
            utilizationRatio = utilization,
            topDrivers = drivers,
            sentAt = now,
        }, JsonSerializerOptions.Web);
    }

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
