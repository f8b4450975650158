using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed class BudgetPagesTests(OpsmeterApp app)
{
    [Fact]
    public async Task An_owner_creates_a_budget_through_the_form_and_sees_its_spend_and_state()
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestCostAsync(ws, 30m, DateTimeOffset.UtcNow.AddMinutes(-1), endpointTag: "support");
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var saved = await owner.PostFormAsync("/Dashboard/Budgets/Edit", new()
        {
            ["Form.Name"] = "support monthly", ["Form.ScopeDimension"] = "endpointTag", ["Form.ScopeValue"] = "support",
            ["Form.Period"] = "monthly", ["Form.TimeZone"] = "UTC", ["Form.LimitUsd"] = "40", ["Form.WarningThresholds"] = "50, 80",
            ["Form.OnExceeded"] = "block", ["Form.DataModes"] = "real",
        });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var (_, html) = await owner.GetAsync("/Dashboard/Budgets");
        Assert.Contains("data-budget=\"support monthly\"", html, StringComparison.Ordinal);
        Assert.Contains("$30.00", html, StringComparison.Ordinal);
        Assert.Contains("aria-valuenow=\"75\"", html, StringComparison.Ordinal);
        Assert.Contains(">warning</span>", html, StringComparison.Ordinal);

        var (_, inbox) = await owner.GetAsync("/Dashboard/Incidents");
        Assert.Contains("data-incident=\"support monthly\"", inbox, StringComparison.Ordinal);
        var incidentId = await app.WithDbAsync(db => db.Incidents.Where(i => i.WorkspaceId == ws.Id).Select(i => i.Id).SingleAsync());
        var (detail, detailHtml) = await owner.GetAsync($"/Dashboard/Incidents/Detail/{incidentId}");
        Assert.Equal(HttpStatusCode.OK, detail.StatusCode);
        Assert.Contains("data-driver=\"endpointTag\"", detailHtml, StringComparison.Ordinal);

        var acked = await owner.PostFormAsync("/Dashboard/Incidents?handler=Acknowledge", new() { ["id"] = incidentId.ToString(), ["note"] = "on it" },
            formPage: "/Dashboard/Incidents");
        Assert.Equal(HttpStatusCode.Redirect, acked.StatusCode);
        var incident = await app.WithDbAsync(db => db.Incidents.SingleAsync(i => i.Id == incidentId));
        Assert.Equal(("acknowledged", "on it"), (incident.State, incident.Note));
        Assert.Contains("@example.test", incident.AcknowledgedBy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_form_offers_queue_and_the_policy_then_holds_calls_until_the_period_ends()
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestCostAsync(ws, 30m, DateTimeOffset.UtcNow.AddMinutes(-1), endpointTag: "batch");
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var (_, form) = await owner.GetAsync("/Dashboard/Budgets/Edit");
        Assert.Contains("<option value=\"queue\">queue</option>", form, StringComparison.Ordinal);

        var saved = await owner.PostFormAsync("/Dashboard/Budgets/Edit", new()
        {
            ["Form.Name"] = "batch daily", ["Form.ScopeDimension"] = "endpointTag", ["Form.ScopeValue"] = "batch",
            ["Form.Period"] = "daily", ["Form.TimeZone"] = "UTC", ["Form.LimitUsd"] = "10", ["Form.WarningThresholds"] = "80",
            ["Form.OnExceeded"] = "queue", ["Form.DataModes"] = "real",
        });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var (_, list) = await owner.GetAsync("/Dashboard/Budgets");
        Assert.Contains("queue until the period ends", list, StringComparison.Ordinal);

        var policy = await ws.Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/policy?endpointTag=batch");
        Assert.Equal("queue", policy.GetProperty("action").GetString());
        Assert.True(policy.GetProperty("retryAfterSeconds").GetInt32() is > 0 and <= 86_400);
    }

    [Fact]
    public async Task The_form_shows_field_errors_and_saves_nothing()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var response = await owner.PostFormAsync("/Dashboard/Budgets/Edit", new()
        {
            ["Form.Name"] = "", ["Form.ScopeDimension"] = "tenantId", ["Form.ScopeValue"] = "", ["Form.Period"] = "monthly",
            ["Form.TimeZone"] = "Nowhere/Land", ["Form.LimitUsd"] = "0", ["Form.WarningThresholds"] = "80", ["Form.OnExceeded"] = "clamp",
            ["Form.DataModes"] = "real",
        });
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("IANA time zone", html, StringComparison.Ordinal);
        Assert.Contains("maxOutputTokens is required", html, StringComparison.Ordinal);
        Assert.Contains("scope.value is required", html, StringComparison.Ordinal);
        Assert.Equal(0, await app.WithDbAsync(db => db.Budgets.CountAsync(b => b.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task A_member_sees_budgets_but_cannot_change_budgets_channels_or_the_policy_mode()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);

        var (list, html) = await member.GetAsync("/Dashboard/Budgets");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.DoesNotContain("New budget", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await member.GetAsync("/Dashboard/Budgets/Edit")).Response.StatusCode);
        var channel = await member.PostFormAsync("/Dashboard/Alerts?handler=Create",
            new() { ["Form.Name"] = "x", ["Form.Url"] = "https://example.test/hook", ["Form.Format"] = "generic" }, formPage: "/Dashboard/Alerts");
        var mode = await member.PostFormAsync("/Dashboard/Settings?handler=PolicyMode&mode=observe", [], formPage: "/Dashboard/Settings");

        Assert.StartsWith("/account/denied", channel.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("/account/denied", mode.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await app.WithDbAsync(db => db.WebhookChannels.CountAsync(c => c.WorkspaceId == ws.Id)));
        Assert.Equal("enforce", await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).Select(w => w.PolicyMode).SingleAsync()));
    }

    [Fact]
    public async Task The_job_dashboard_is_for_instance_administrators_only()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var anonymous = DashboardUser.For(app);
        var redirected = await anonymous.Client.GetAsync("/dashboard/jobs");
        Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        Assert.StartsWith("/account/signin", redirected.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);

        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);
        var denied = await member.Client.GetAsync("/dashboard/jobs");
        Assert.StartsWith("/account/denied", denied.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);

        // A workspace's owner manages that workspace; the recurring jobs serve all of them.
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var refused = await owner.Client.GetAsync("/dashboard/jobs/recurring");
        Assert.StartsWith("/account/denied", refused.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);

        using var administrator = await DashboardUser.SignedInAsync(app, ws.Id, instanceAdmin: true);
        var (page, html) = await administrator.GetAsync("/dashboard/jobs/recurring");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("budgets:evaluate", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workspace_B_never_sees_the_budgets_or_incidents_of_A()
    {
        var a = await app.CreateWorkspaceAsync();
        var b = await app.CreateWorkspaceAsync();
        await IngestCostAsync(a, 5m, DateTimeOffset.UtcNow.AddMinutes(-1));
        var budgetId = await CreateBudgetAsync(a, """{"name":"secret budget of A","limitUsd":1}""");
        var incidentId = await app.WithDbAsync(db => db.Incidents.Where(i => i.WorkspaceId == a.Id).Select(i => i.Id).SingleAsync());
        using var person = await DashboardUser.SignedInAsync(app, b.Id);

        Assert.DoesNotContain("secret budget of A", (await person.GetAsync("/Dashboard/Budgets")).Html, StringComparison.Ordinal);
        Assert.DoesNotContain("secret budget of A", (await person.GetAsync("/Dashboard/Incidents?show=all")).Html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await person.GetAsync($"/Dashboard/Budgets/Edit?id={budgetId}")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await person.GetAsync($"/Dashboard/Incidents/Detail/{incidentId}")).Response.StatusCode);
    }
}
