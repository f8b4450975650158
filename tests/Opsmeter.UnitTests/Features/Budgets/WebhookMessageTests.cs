using System.Text.Json;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Notifications;

namespace Opsmeter.UnitTests.Features.Budgets;

public sealed class WebhookMessageTests
{
    [Fact]
    public void Slack_bodies_escape_event_values_so_they_cannot_mention_or_link()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var budget = new Budget
        {
            Id = Guid.NewGuid(), WorkspaceId = Guid.NewGuid(), Name = "<!here> team", ScopeDimension = "workspace", Period = "monthly",
            TimeZone = "UTC", OnExceeded = "warn", LimitUsd = 10m,
        };
        var incident = new Incident
        {
            Id = Guid.NewGuid(), WorkspaceId = budget.WorkspaceId, BudgetId = budget.Id, BudgetName = budget.Name, Level = "exceeded",
            State = "open", SpendUsd = 12m, LimitUsd = 10m, Threshold = 1m, OpenedThreshold = 1m, OpenedAt = now,
        };
        var drivers = new[] { new SpendDriver("userId", "x` <!channel> <https://evil.test|Pay here>", 12m, 3) };

        var body = JsonDocument.Parse(IncidentMessages.Incident(WebhookFormats.Slack, incident, budget, drivers, now)).RootElement;
        var text = body.GetProperty("text").GetString() + "\n" + body.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString();

        Assert.DoesNotContain("<!channel>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<https://evil.test", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<!here>", text, StringComparison.Ordinal);
        Assert.Contains("&lt;!channel&gt;", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_signature_is_the_timestamp_and_the_hex_hmac_sha256_of_timestamp_dot_body()
    {
        // RFC 4231 test case 2's key ("Jefe"); the MAC of "1767225600.what do ya want for nothing?", computed with Python's hmac.
        var signedAt = DateTimeOffset.FromUnixTimeSeconds(1767225600);
        Assert.Equal("t=1767225600,v1=8bf4bab82972f519c62eab705abd744e0bc4e8a7e292de99189f49e03834693a",
            WebhookMessages.Sign("Jefe", signedAt, "what do ya want for nothing?"));
    }
}
