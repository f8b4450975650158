using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Policy;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;

namespace Opsmeter.IntegrationTests.Features.Budgets;

/// <summary>/v1/policy, the ingest response's budget flags and workspace-status, after a real evaluation.</summary>
[Collection(SharedApp.Name)]
public sealed class PolicyTests(OpsmeterApp app)
{
    [Fact]
    public async Task Each_exceeded_action_becomes_the_policy_and_observe_mode_allows()
    {
        var ws = await app.CreateWorkspaceAsync();
        var now = DateTimeOffset.UtcNow;
        foreach (var (tag, action) in new[] { ("a", "\"onExceeded\":\"warn\""), ("b", "\"onExceeded\":\"clamp\",\"maxOutputTokens\":256"),
                     ("c", "\"onExceeded\":\"fallback\",\"fallbackModel\":\"gpt-4o-mini\""), ("d", "\"onExceeded\":\"block\"") })
        {
            await IngestCostAsync(ws, 2m, now.AddSeconds(-30), endpointTag: tag);
            await CreateBudgetAsync(ws, $$"""{"name":"{{tag}} budget","scope":{"dimension":"endpointTag","value":"{{tag}}"},"limitUsd":1,{{action}}}""");
        }

        await IngestCostAsync(ws, 0.6m, now.AddSeconds(-30), endpointTag: "e");
        await CreateBudgetAsync(ws, """{"name":"e budget","scope":{"dimension":"endpointTag","value":"e"},"limitUsd":1,"onExceeded":"block"}""");

        async Task<JsonElement> PolicyAsync(string tag) => await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/policy?endpointTag={tag}&model=gpt-4o");
        var warn = await PolicyAsync("a");
        Assert.Equal("warn", warn.GetProperty("action").GetString());
        Assert.Contains("'a budget' exceeded", warn.GetProperty("reasons")[0].GetString());
        Assert.Equal("exceeded", warn.GetProperty("budgets")[0].GetProperty("state").GetString());
        Assert.Equal(2m, warn.GetProperty("budgets")[0].GetProperty("utilizationRatio").GetDecimal());
        var clamp = await PolicyAsync("b");
        Assert.Equal(("clamp", 256), (clamp.GetProperty("action").GetString(), clamp.GetProperty("maxOutputTokens").GetInt32()));
        var fallback = await PolicyAsync("c");
        Assert.Equal(("fallback", "gpt-4o-mini"), (fallback.GetProperty("action").GetString(), fallback.GetProperty("fallbackModel").GetString()));
        Assert.Equal("block", (await PolicyAsync("d")).GetProperty("action").GetString());
        Assert.Equal("warn", (await PolicyAsync("e")).GetProperty("action").GetString()); // 60 %: warning, not yet its block
        var unrelated = await PolicyAsync("z");
        Assert.Equal("allow", unrelated.GetProperty("action").GetString());
        Assert.Empty(unrelated.GetProperty("budgets").EnumerateArray());
        Assert.Equal(("enforce", 15), (unrelated.GetProperty("mode").GetString(), unrelated.GetProperty("ttlSeconds").GetInt32()));

        var flagged = await (await ws.Client.PostAsync("/v1/ingest", new TestEvent { Model = "gpt-4o", EndpointTag = "d" }.Content()))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(flagged.GetProperty("budgetExceeded").GetBoolean());
        var warned = await (await ws.Client.PostAsync("/v1/ingest", new TestEvent { Model = "gpt-4o", EndpointTag = "e" }.Content()))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((true, false), (warned.GetProperty("budgetWarning").GetBoolean(), warned.GetProperty("budgetExceeded").GetBoolean()));
        var clear = await (await ws.Client.PostAsync("/v1/ingest", new TestEvent { Model = "gpt-4o", EndpointTag = "z" }.Content()))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(clear.GetProperty("budgetExceeded").GetBoolean() || clear.GetProperty("budgetWarning").GetBoolean());

        // The event that crosses the limit is answered exceeded, before any evaluation has seen it.
        await IngestCostAsync(ws, 1m, now.AddSeconds(-20), endpointTag: "f");
        await CreateBudgetAsync(ws, """{"name":"f budget","scope":{"dimension":"endpointTag","value":"f"},"limitUsd":10}""");
        var crossing = await (await ws.Client.PostAsync("/v1/ingest", (TestEvent.Costing(9.5m) with { EndpointTag = "f" }).Content()))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(crossing.GetProperty("budgetExceeded").GetBoolean());

        var status = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/workspace-status");
        Assert.Equal(("critical", true, true), (status.GetProperty("severity").GetString(), status.GetProperty("isBudgetExceeded").GetBoolean(),
            status.GetProperty("providerCallsContinue").GetBoolean()));
        // No whole-workspace budget: the monthly block is still there (Opsmeter.io templates read it), without a limit.
        Assert.Equal(JsonValueKind.Null, status.GetProperty("budget").GetProperty("monthly").GetProperty("limitUsd").ValueKind);

        await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).ExecuteUpdateAsync(s => s.SetProperty(w => w.PolicyMode, PolicyModes.Observe)));
        await app.Services.GetRequiredService<PolicySnapshot>().ReloadAsync(CancellationToken.None);
        var observed = await PolicyAsync("d");
        Assert.Equal(("allow", "observe"), (observed.GetProperty("action").GetString(), observed.GetProperty("mode").GetString()));
        Assert.Contains("block", observed.GetProperty("reasons")[0].GetString());
    }

    [Fact]
    public async Task The_policy_says_when_the_budgets_behind_it_were_evaluated()
    {
        var ws = await app.CreateWorkspaceAsync();
        var none = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/policy");
        Assert.Equal(JsonValueKind.Null, none.GetProperty("evaluatedAt").ValueKind);

        var id = await CreateBudgetAsync(ws, """{"name":"monthly","limitUsd":100}""");
        var evaluatedAt = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddHours(1);
        await EvaluateAtAsync(app, id, evaluatedAt);
        await app.Services.GetRequiredService<PolicySnapshot>().ReloadAsync(CancellationToken.None);

        // An app compares it with its clock: a policy whose evaluation stopped long ago is stale, whatever it says.
        var policy = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/policy");
        Assert.Equal(evaluatedAt, policy.GetProperty("evaluatedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Workspace_status_reports_the_whole_workspace_monthly_budget()
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestCostAsync(ws, 85m, DateTimeOffset.UtcNow.AddSeconds(-10));
        await CreateBudgetAsync(ws, """{"name":"monthly","limitUsd":100,"warningThresholds":[0.8]}""");

        var status = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/workspace-status");
        Assert.Equal(("warning", true, false), (status.GetProperty("severity").GetString(), status.GetProperty("isBudgetWarning").GetBoolean(),
            status.GetProperty("isBudgetExceeded").GetBoolean()));
        var monthly = status.GetProperty("budget").GetProperty("monthly");
        Assert.Equal((100m, 85m, 0.85m), (monthly.GetProperty("limitUsd").GetDecimal(), monthly.GetProperty("currentSpendUsd").GetDecimal(),
            monthly.GetProperty("utilizationRatio").GetDecimal()));
        Assert.Equal(0.8m, status.GetProperty("budget").GetProperty("warningThresholdRatio").GetDecimal());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("budget").GetProperty("daily").GetProperty("limitUsd").ValueKind);
        Assert.Equal(ws.Id, status.GetProperty("workspaceId").GetGuid());
    }
}
