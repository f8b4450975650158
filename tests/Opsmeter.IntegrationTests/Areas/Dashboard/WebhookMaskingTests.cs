using System.Net;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

/// <summary>A webhook URL is a credential: members see it masked on every page that shows channels or their deliveries, owners and admins in full.</summary>
[Collection(SharedApp.Name)]
public sealed class WebhookMaskingTests(OpsmeterApp app)
{
    private const string Url = "https://hooks.example.test/services/T0001/B0002/verysecretpathXy7Q";
    private const string Secret = "verysecretpath";
    private const string Masked = "https://hooks.example.test/…Xy7Q";

    [Fact]
    public async Task A_member_never_gets_the_full_url_in_any_page_that_shows_channels_while_an_admin_does()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Admin);
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);
        await admin.PostFormAsync("/Dashboard/Alerts?handler=Create",
            new() { ["Form.Name"] = "#ai-costs", ["Form.Url"] = Url, ["Form.Format"] = "slack" }, formPage: "/Dashboard/Alerts");
        var channelId = await app.WithDbAsync(db => db.WebhookChannels.Where(c => c.WorkspaceId == ws.Id).Select(c => c.Id).SingleAsync());
        var incidentId = await IncidentWithADeliveryThatEchoesTheUrlAsync(ws, channelId);

        string[] pages = ["/Dashboard/Alerts", $"/Dashboard/Incidents/Detail/{incidentId}", $"/Dashboard/Alerts/Channel?id={channelId}"];
        foreach (var page in pages)
        {
            var (response, html) = await member.GetAsync(page);
            Assert.DoesNotContain(Secret, WebUtility.HtmlDecode(html), StringComparison.Ordinal);
            Assert.DoesNotContain("T0001", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
            if (page.Contains("/Channel", StringComparison.Ordinal))
            {
                Assert.StartsWith("/account/denied", response.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        var memberAlerts = await PageAsync(member, "/Dashboard/Alerts");
        var memberIncident = await PageAsync(member, $"/Dashboard/Incidents/Detail/{incidentId}");
        Assert.Contains($"<code data-url>{Masked}</code>", memberAlerts, StringComparison.Ordinal);
        Assert.Contains($"HTTP 404 from {Masked}: no such hook /…", memberIncident, StringComparison.Ordinal);
        Assert.Contains($"HTTP 404 from {Masked}: no such hook /…", memberAlerts, StringComparison.Ordinal);

        var adminAlerts = await PageAsync(admin, "/Dashboard/Alerts");
        var adminEdit = await PageAsync(admin, $"/Dashboard/Alerts/Channel?id={channelId}");
        var adminIncident = await PageAsync(admin, $"/Dashboard/Incidents/Detail/{incidentId}");
        Assert.Contains($"<code data-url>{Url}</code>", adminAlerts, StringComparison.Ordinal);
        Assert.Contains($"value=\"{Url}\"", adminEdit, StringComparison.Ordinal);
        Assert.Contains("404 from " + Url, adminIncident, StringComparison.Ordinal);
    }

    private static async Task<string> PageAsync(DashboardUser user, string path) => WebUtility.HtmlDecode((await user.GetAsync(path)).Html);

    /// <summary>An incident and a failed delivery to the channel whose error names the URL and, as a receiver might echo it, its path.</summary>
    private async Task<Guid> IncidentWithADeliveryThatEchoesTheUrlAsync(TestWorkspace ws, Guid channelId)
    {
        var day = PastDay();
        var budgetId = await CreateBudgetAsync(ws, """{"name":"tight","period":"daily","limitUsd":1,"warningThresholds":[]}""");
        await IngestCostAsync(ws, 3m, day.AddHours(1));
        var incident = (await EvaluateAtAsync(app, budgetId, day.AddHours(2)))!.Changed.Single().Id;
        await app.WithDbAsync(db =>
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                Id = Guid.CreateVersion7(), WorkspaceId = ws.Id, ChannelId = channelId, IncidentId = incident, Kind = "incident", Body = "{}",
                Status = DeliverWebhookJob.Failed, Attempts = 6, LastStatusCode = 404, CreatedAt = DateTimeOffset.UtcNow,
                LastError = $"HTTP 404 from {Url}: no such hook /services/T0001/B0002/verysecretpathXy7Q",
            });
            return db.SaveChangesAsync();
        });
        return incident;
    }
}
