using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Audit;

/// <summary>
/// Each audited change leaves its entry, through the API (actor "key om_…") and the dashboard (the person's email), with
/// its before and after as a person reads them; and the log itself cannot be rewritten.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class AuditEntriesTests(OpsmeterApp app)
{
    private const string HookUrl = "https://hooks.example.test/services/T0001/B0002/verysecretpathXy7Q";

    private Task<List<(string Actor, string Action, string? Target, string? Before, string? After)>> EntriesAsync(Guid workspaceId) =>
        // Leaves out the entry of the workspace's own test key (OpsmeterApp.CreateWorkspaceAsync, actor "test").
        app.WithDbAsync(async db => (await db.AuditLog.Where(a => a.WorkspaceId == workspaceId && a.Actor != "test").OrderBy(a => a.Id).ToListAsync())
            .ConvertAll(a => (a.Actor, a.Action, a.Target, a.Before, a.After)));

    private static string KeyActor(TestWorkspace ws) => "key " + ws.Key[..ws.Key.IndexOf('_', 3)];

    [Fact]
    public async Task Budgets_created_changed_and_deleted_through_the_api_name_the_key()
    {
        var ws = await app.CreateWorkspaceAsync();
        var id = await CreateBudgetAsync(ws, """{"name":"team","limitUsd":500,"warningThresholds":[0.8],"onExceeded":"block"}""");
        var unchanged = await ws.Client.PutAsync($"/v1/budgets/{id}", Json("""{"name":"team","limitUsd":500,"warningThresholds":[0.8],"onExceeded":"block"}"""));
        var changed = await ws.Client.PutAsync($"/v1/budgets/{id}",
            Json("""{"name":"team","scope":{"dimension":"endpointTag","value":"chat"},"limitUsd":750.5,"warningThresholds":[0.5,0.8],"onExceeded":"warn"}"""));
        var deleted = await ws.Client.DeleteAsync($"/v1/budgets/{id}");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NoContent), (unchanged.StatusCode, changed.StatusCode, deleted.StatusCode));
        var actor = KeyActor(ws);
        Assert.Equal(
        [
            (actor, AuditActions.BudgetCreated, "team (whole workspace)", null, "monthly $500.00 warn 80% action block"),
            (actor, AuditActions.BudgetChanged, "team (endpointTag = chat)", "team (whole workspace): monthly $500.00 warn 80% action block",
                "monthly $750.50 warn 50% 80% action warn"),
            (actor, AuditActions.BudgetDeleted, "team (endpointTag = chat)", "monthly $750.50 warn 50% 80% action warn", null),
        ], await EntriesAsync(ws.Id));
    }

    [Fact]
    public async Task A_budget_saved_and_deleted_on_the_dashboard_names_the_person()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var saved = await owner.PostFormAsync("/Dashboard/Budgets/Edit", new()
        {
            ["Form.Name"] = "support", ["Form.ScopeDimension"] = "workspace", ["Form.Period"] = "daily", ["Form.TimeZone"] = "Europe/Berlin",
            ["Form.LimitUsd"] = "20", ["Form.WarningThresholds"] = "", ["Form.OnExceeded"] = "clamp", ["Form.MaxOutputTokens"] = "256",
            ["Form.DataModes"] = "real",
        });
        Assert.True(saved.StatusCode == HttpStatusCode.Redirect, await saved.Content.ReadAsStringAsync());
        var id = await app.WithDbAsync(db => db.Budgets.Where(b => b.WorkspaceId == ws.Id).Select(b => b.Id).SingleAsync());
        var deleted = await owner.PostFormAsync($"/Dashboard/Budgets/Edit?id={id}&handler=Delete", [], formPage: $"/Dashboard/Budgets/Edit?id={id}");

        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        const string Settings = "daily $20.00 action clamp to 256 output tokens in Europe/Berlin";
        Assert.Equal(
        [
            (owner.Email!, AuditActions.BudgetCreated, "support (whole workspace)", null, Settings),
            (owner.Email!, AuditActions.BudgetDeleted, "support (whole workspace)", Settings, null),
        ], await EntriesAsync(ws.Id));
    }

    [Fact]
    public async Task Channels_are_audited_by_their_masked_url_never_the_full_url_or_the_secret()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, Web.Features.Members.WorkspaceRoles.Admin);

        var created = await admin.PostFormAsync("/Dashboard/Alerts?handler=Create",
            new() { ["Form.Name"] = "#ai-costs", ["Form.Url"] = HookUrl, ["Form.Format"] = "slack" }, formPage: "/Dashboard/Alerts");
        var secret = System.Text.RegularExpressions.Regex.Match(await created.Content.ReadAsStringAsync(), "whsec_[A-Za-z0-9_-]+").Value;
        var id = await app.WithDbAsync(db => db.WebhookChannels.Where(c => c.WorkspaceId == ws.Id).Select(c => c.Id).SingleAsync());
        await admin.PostFormAsync($"/Dashboard/Alerts/Channel?id={id}",
            new() { ["Form.Name"] = "#finance", ["Form.Url"] = "https://other.example.test/incoming/another-secret-AbCd", ["Form.Format"] = "generic" },
            formPage: $"/Dashboard/Alerts/Channel?id={id}");
        await admin.PostFormAsync($"/Dashboard/Alerts?handler=Delete&id={id}", [], formPage: "/Dashboard/Alerts");

        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var entries = await EntriesAsync(ws.Id);
        Assert.Equal(
        [
            (admin.Email!, AuditActions.ChannelCreated, "#ai-costs", null, "#ai-costs: slack, https://hooks.example.test/…Xy7Q"),
            (admin.Email!, AuditActions.ChannelChanged, "#finance", "#ai-costs: slack, https://hooks.example.test/…Xy7Q",
                "#finance: generic, https://other.example.test/…AbCd"),
            (admin.Email!, AuditActions.ChannelDeleted, "#finance", "#finance: generic, https://other.example.test/…AbCd", null),
        ], entries);
        var text = string.Join("\n", entries.Select(e => $"{e.Target} {e.Before} {e.After}"));
        Assert.DoesNotContain("verysecretpath", text, StringComparison.Ordinal);
        Assert.DoesNotContain("another-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_and_the_kill_switch_record_before_and_after_and_a_save_that_changes_nothing_records_nothing()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        foreach (var _ in new[] { 1, 2 })
        {
            await owner.PostFormAsync("/Dashboard/Settings?handler=Retention",
                new() { ["Retention.RawRetentionDays"] = "7", ["Retention.RollupRetentionDays"] = "365" }, formPage: "/Dashboard/Settings");
            await owner.PostFormAsync("/Dashboard/Settings?handler=PolicyMode&mode=observe", [], formPage: "/Dashboard/Settings");
        }

        await owner.PostFormAsync("/Dashboard/Settings?handler=PolicyMode&mode=enforce", [], formPage: "/Dashboard/Settings");

        Assert.Equal(
        [
            (owner.Email!, AuditActions.RetentionChanged, "retention", "raw 30 d, rollups 400 d", "raw 7 d, rollups 365 d"),
            (owner.Email!, AuditActions.PolicyModeChanged, "policy mode", "enforce", "observe"),
            (owner.Email!, AuditActions.PolicyModeChanged, "policy mode", "observe", "enforce"),
        ], await EntriesAsync(ws.Id));
    }

    [Fact]
    public async Task Price_overrides_added_and_retired_through_the_api_leave_a_general_entry_beside_the_price_audit()
    {
        var ws = await app.CreateWorkspaceAsync();
        var response = await ws.Client.PostAsync("/v1/pricing/overrides", Json(
            """{"provider":"openai","model":"audit-model","inputPerMillionUsd":1,"outputPerMillionUsd":2,"effectiveFrom":"2026-01-01T00:00:00Z","reason":"contract 7"}"""));
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await ws.Client.PostAsync($"/v1/pricing/overrides/{id}/retire", Json("""{"reason":"typed the wrong rate"}"""));

        var entries = await EntriesAsync(ws.Id);
        Assert.Equal([(KeyActor(ws), AuditActions.OverrideAdded, "openai/audit-model"), (KeyActor(ws), AuditActions.OverrideRetired, "openai/audit-model")],
            entries.Select(e => (e.Actor, e.Action, e.Target)));
        Assert.Equal("no price", entries[0].Before);
        Assert.StartsWith("override openai/audit-model: input 1, output 2 USD per million tokens", entries[0].After, StringComparison.Ordinal);
        Assert.EndsWith("why: contract 7", entries[0].After, StringComparison.Ordinal);
        Assert.Equal(entries[0].After!.Split(';')[0], entries[1].Before);
        Assert.StartsWith("no price; why: typed the wrong rate", entries[1].After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_test_data_through_the_api_and_demo_data_on_the_dashboard_says_how_many_rows_went()
    {
        var ws = await app.CreateWorkspaceAsync();
        foreach (var n in new[] { 1, 2 })
        {
            await ws.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = $"test-{n}", DataMode = "test" }.Content());
        }

        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.DeleteAsync("/v1/ingest/test-data")).StatusCode);
        await owner.PostFormAsync("/Dashboard/Settings?handler=Delete&dataMode=demo", [], formPage: "/Dashboard/Settings");

        Assert.Equal(
        [
            (KeyActor(ws), AuditActions.DataDeleted, "test data", null, "2 test events removed"),
            (owner.Email!, AuditActions.DataDeleted, "demo data", null, "0 demo events removed"),
        ], await EntriesAsync(ws.Id));
    }

    [Fact]
    public async Task The_log_is_append_only_an_update_or_delete_in_sql_fails()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.DeleteAsync("/v1/ingest/test-data");

        var update = await Assert.ThrowsAsync<PostgresException>(() => app.WithDbAsync(db =>
            db.Database.ExecuteSqlAsync($"UPDATE audit_log SET actor = 'someone else' WHERE workspace_id = {ws.Id}")));
        var delete = await Assert.ThrowsAsync<PostgresException>(() => app.WithDbAsync(db =>
            db.Database.ExecuteSqlAsync($"DELETE FROM audit_log WHERE workspace_id = {ws.Id}")));

        Assert.Contains("append-only", update.MessageText, StringComparison.Ordinal);
        Assert.Contains("append-only", delete.MessageText, StringComparison.Ordinal);
        Assert.Equal(KeyActor(ws), Assert.Single(await EntriesAsync(ws.Id)).Actor);
    }
}
