using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.IntegrationTests.Features.Otlp;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Quota;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Quota;

/// <summary>Monthly request quotas: 402 once used up, per workspace, the default and the override, the month's turn, who sets them.</summary>
[Collection(SharedApp.Name)]
public sealed class QuotaTests(OpsmeterApp app)
{
    private const string WorkspacesPage = "/Dashboard/Workspaces";

    private static StringContent Event(string id) =>
        Json($$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o-mini","inputTokens":100,"outputTokens":50,"status":"success"}""");

    [Fact]
    public async Task A_workspace_past_its_quota_gets_402_with_the_plan_fields_on_every_ingest_path_and_nothing_is_stored()
    {
        var full = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        await SetQuotaAsync(app, full.Id, 2);

        var first = await full.Client.PostAsync("/v1/ingest", Event("q-1"));
        var second = await full.Client.PostAsync("/v1/ingest/llm-request", Event("q-2"));
        var refused = await full.Client.PostAsync("/v1/ingest", Event("q-3"));
        var retried = await full.Client.PostAsync("/v1/ingest/llm-request", Event("q-1"));
        var batch = await full.Client.PostAsync("/v1/ingest/batch", Json("""{"events":[{"externalRequestId":"q-4","provider":"openai","model":"gpt-4o-mini","inputTokens":1,"outputTokens":1,"status":"success"}]}"""));
        var otlp = await full.Client.PostAsync("/v1/otlp/v1/traces", OtlpSpans.Protobuf(OtlpSpans.Export([], OtlpSpans.Chat())));
        var demo = await full.Client.PostAsync("/v1/ingest/demo", null);
        var elsewhere = await other.Client.PostAsync("/v1/ingest", Event("q-3"));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.False((await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isPlanLimitReached").GetBoolean());
        foreach (var response in new[] { refused, retried, batch, otlp, demo })
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(("plan_limit_reached", true, true, true, 2, 2), (problem.GetProperty("reason").GetString(),
                problem.GetProperty("telemetryPaused").GetBoolean(), problem.GetProperty("isPlanLimitReached").GetBoolean(),
                problem.GetProperty("providerCallsContinue").GetBoolean(), problem.GetProperty("planRequestLimit").GetInt32(),
                problem.GetProperty("currentRequestCount").GetInt32()));
            Assert.Contains("2 of 2 requests this UTC month", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(["q-1", "q-2"], await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == full.Id)
            .OrderBy(r => r.ExternalRequestId).Select(r => r.ExternalRequestId).ToListAsync()));
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == other.Id)));
    }

    [Fact]
    public async Task Workspace_status_reports_the_quota_with_real_counts()
    {
        var ws = await app.CreateWorkspaceAsync();
        var unlimited = await app.CreateWorkspaceAsync();
        await SetQuotaAsync(app, ws.Id, 3);
        (await ws.Client.PostAsync("/v1/ingest", Event("s-1"))).EnsureSuccessStatusCode();

        var under = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/workspace-status");
        (await ws.Client.PostAsync("/v1/ingest/batch", Json("""{"events":[{"externalRequestId":"s-2","provider":"openai","model":"gpt-4o-mini","inputTokens":1,"outputTokens":1,"status":"success"},{"externalRequestId":"s-3","provider":"openai","model":"gpt-4o-mini","inputTokens":1,"outputTokens":1,"status":"success"},{"externalRequestId":"s-4","provider":"openai","model":"gpt-4o-mini","inputTokens":1,"outputTokens":1,"status":"success"}]}"""))).EnsureSuccessStatusCode();
        var over = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/workspace-status");
        var none = await unlimited.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/workspace-status");

        // A batch taken while under the quota is taken whole, even past it.
        Assert.Equal((1, 3, 2, false, false), Plan(under));
        Assert.Equal((4, 3, 0, true, true), Plan(over));
        Assert.True(over.GetProperty("isPlanLimitReached").GetBoolean() && over.GetProperty("telemetryPaused").GetBoolean());
        Assert.True(over.GetProperty("providerCallsContinue").GetBoolean());
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (none.GetProperty("plan").GetProperty("planRequestLimit").ValueKind,
            none.GetProperty("plan").GetProperty("remainingRequestCount").ValueKind));
        Assert.False(none.GetProperty("isPlanLimitReached").GetBoolean());

        static (int, int, int, bool, bool) Plan(JsonElement status)
        {
            var plan = status.GetProperty("plan");
            return (plan.GetProperty("currentRequestCount").GetInt32(), plan.GetProperty("planRequestLimit").GetInt32(),
                plan.GetProperty("remainingRequestCount").GetInt32(), plan.GetProperty("isPlanLimitReached").GetBoolean(),
                plan.GetProperty("telemetryPaused").GetBoolean());
        }
    }

    [Fact]
    public async Task Events_dated_last_month_still_count_against_this_months_quota()
    {
        var ws = await app.CreateWorkspaceAsync();
        await app.KeepRawEventsAsync(ws.Id, 90);
        await SetQuotaAsync(app, ws.Id, 2);
        var lastMonth = DateTimeOffset.UtcNow.AddMonths(-1).ToString("O");
        foreach (var id in new[] { "b-1", "b-2" })
        {
            var body = $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o-mini","inputTokens":1,"outputTokens":1,"status":"success","occurredAt":"{{lastMonth}}"}""";
            (await ws.Client.PostAsync("/v1/ingest", Json(body))).EnsureSuccessStatusCode();
        }

        var status = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/workspace-status");

        Assert.Equal(2, status.GetProperty("plan").GetProperty("currentRequestCount").GetInt32());
        Assert.Equal(HttpStatusCode.PaymentRequired, (await ws.Client.PostAsync("/v1/ingest", Event("b-3"))).StatusCode);
    }

    [Fact]
    public async Task The_default_applies_to_every_workspace_a_workspace_value_overrides_it_and_a_new_month_accepts_again()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fresh = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:Quota:DefaultMonthlyRequests"] = "1" },
            services => services.AddSingleton<TimeProvider>(clock));
        await fresh.InitializeAsync();
        var plain = await fresh.CreateWorkspaceAsync("ingest");
        var raised = await fresh.CreateWorkspaceAsync("ingest");
        await SetQuotaAsync(fresh, raised.Id, 3);

        var plainAnswers = new[] { await plain.Client.PostAsync("/v1/ingest", Event("d-1")), await plain.Client.PostAsync("/v1/ingest", Event("d-2")) };
        var raisedAnswers = new List<HttpStatusCode>();
        foreach (var id in new[] { "r-1", "r-2", "r-3", "r-4" })
        {
            raisedAnswers.Add((await raised.Client.PostAsync("/v1/ingest", Event(id))).StatusCode);
        }

        var now = clock.GetUtcNow();
        var nextMonthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
        clock.SetUtcNow(nextMonthStart.AddMinutes(1));
        var nextMonth = await plain.Client.PostAsync("/v1/ingest", Event("d-3"));
        var afterThat = await plain.Client.PostAsync("/v1/ingest", Event("d-4"));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PaymentRequired], plainAnswers.Select(r => r.StatusCode));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.PaymentRequired], raisedAnswers);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.PaymentRequired), (nextMonth.StatusCode, afterThat.StatusCode));
        var problem = await afterThat.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(nextMonthStart.AddMonths(1), problem.GetProperty("periodEnd").GetDateTimeOffset());
    }

    [Fact]
    public async Task An_instance_admin_sets_a_quota_on_the_workspaces_page_audited_and_the_overview_shows_usage_against_it()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member, instanceAdmin: true);
        (await ws.Client.PostAsync("/v1/ingest", Event("o-1"))).EnsureSuccessStatusCode();
        var (_, before) = await admin.GetAsync("/Dashboard");

        var response = await admin.PostFormAsync($"{WorkspacesPage}?handler=Quota&id={ws.Id}", new() { ["quota"] = "1,000" }, formPage: WorkspacesPage);
        var (_, after) = await admin.GetAsync("/Dashboard");
        var (_, list) = await admin.GetAsync(WorkspacesPage);
        await admin.PostFormAsync($"{WorkspacesPage}?handler=Quota&id={ws.Id}", new() { ["quota"] = "1" }, formPage: WorkspacesPage);
        var (_, reached) = await admin.GetAsync("/Dashboard");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain("requests this month", before, StringComparison.Ordinal); // no quota, no line
        Assert.Contains("1 of 1,000 requests this month", after, StringComparison.Ordinal);
        Assert.Contains("data-quota=\"ok\"", after, StringComparison.Ordinal);
        Assert.Contains("value=\"1000\"", list, StringComparison.Ordinal);
        Assert.Contains("1 of 1 requests this month", reached, StringComparison.Ordinal);
        Assert.Contains("data-quota=\"reached\"", reached, StringComparison.Ordinal);
        Assert.Contains("ingest answers 402", reached, StringComparison.Ordinal);
        var entries = await app.WithDbAsync(db => db.AuditLog.Where(a => a.WorkspaceId == ws.Id && a.Action == AuditActions.QuotaChanged)
            .OrderBy(a => a.Id).Select(a => new { a.Before, a.After, a.Actor }).ToListAsync());
        Assert.Equal([("none", "1,000"), ("1,000", "1")], entries.Select(e => (e.Before, e.After)));
        Assert.All(entries, e => Assert.EndsWith("@example.test", e.Actor, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_owner_who_is_not_an_instance_admin_cannot_set_a_quota_and_a_bad_value_is_explained()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member, instanceAdmin: true);

        var refused = await owner.PostFormAsync($"{WorkspacesPage}?handler=Quota&id={ws.Id}", new() { ["quota"] = "1000000" }, formPage: WorkspacesPage);
        var (_, ownersPage) = await owner.GetAsync(WorkspacesPage);
        var bad = await admin.PostFormAsync($"{WorkspacesPage}?handler=Quota&id={ws.Id}", new() { ["quota"] = "-5" }, formPage: WorkspacesPage);
        var zero = await admin.PostFormAsync($"{WorkspacesPage}?handler=Quota&id={ws.Id}", new() { ["quota"] = "0" }, formPage: WorkspacesPage);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain("handler=Quota", ownersPage, StringComparison.Ordinal);
        foreach (var response in new[] { bad, zero })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("data-quota-error", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Null(await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).Select(w => w.MonthlyRequestQuota).SingleAsync()));
        Assert.False(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.WorkspaceId == ws.Id && a.Action == AuditActions.QuotaChanged)));
    }

    /// <summary>As the Workspaces page and the CLI do: the column, then the quotas reloaded so that ingest sees it.</summary>
    private static async Task SetQuotaAsync(OpsmeterApp target, Guid workspaceId, long quota)
    {
        await target.WithDbAsync(db => db.Workspaces.Where(w => w.Id == workspaceId).ExecuteUpdateAsync(s => s.SetProperty(w => w.MonthlyRequestQuota, quota)));
        await target.Services.GetRequiredService<QuotaMeter>().ReloadQuotasAsync(CancellationToken.None);
    }
}
