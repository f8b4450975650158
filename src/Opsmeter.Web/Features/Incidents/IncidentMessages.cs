using System.Globalization;
using System.Text.Json;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Notifications;

namespace Opsmeter.Web.Features.Incidents;

/// <summary>The webhook body that announces an incident: Slack-compatible text, or Opsmeter's JSON (signed by the channel).</summary>
internal static class IncidentMessages
{
    public static string Incident(string format, Incident incident, Budget budget, IReadOnlyList<SpendDriver> drivers, DateTimeOffset now)
    {
        var utilization = BudgetRules.Utilization(incident.SpendUsd, incident.LimitUsd);
        if (format == WebhookFormats.Slack)
        {
            var headline = string.Create(CultureInfo.InvariantCulture,
                $"{(incident.Level == BudgetRules.Exceeded ? ":rotating_light:" : ":warning:")} Budget *{WebhookMessages.SlackText(budget.Name)}* {incident.Level}: {incident.SpendUsd:0.00} of {incident.LimitUsd:0.00} USD ({utilization:P0}) this {budget.Period} period");
            var top = string.Join("\n", drivers.Take(8).Select(d => string.Create(CultureInfo.InvariantCulture, $"• {d.Dimension} `{WebhookMessages.SlackText(d.Value)}`: {d.CostUsd:0.00} USD")));
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
}
