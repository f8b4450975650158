using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Ingest;

/// <summary>
/// What the published Opsmeter.io SDKs send (Fixtures/opsmeter-io-clients.json: the Node and Python SDKs' request bodies,
/// one per case, with their nulls and a numeric errorCode) is accepted unchanged, priced, attributed and stored once.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class OpsmeterIoClientTests(OpsmeterApp app)
{
    internal sealed record ClientRequest(string Client, string Case, JsonObject Body)
    {
        public string Id => (string)Body["externalRequestId"]!;

        public JsonNode? Meta(string key) => Body["metadata"]![key];

        public override string ToString() => $"{Client} {Case}";
    }

    internal static IReadOnlyList<ClientRequest> Requests() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "opsmeter-io-clients.json")))!.AsArray()
            .Select(n => new ClientRequest((string)n!["client"]!, (string)n["case"]!, n["body"]!.AsObject())).ToList();

    [Fact]
    public async Task Every_published_client_request_is_accepted_priced_and_stored_once_and_a_retry_is_a_duplicate()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        foreach (var request in Requests())
        {
            var response = await ws.Client.PostAsync("/v1/ingest/llm-request", Json(request.Body.ToJsonString()));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{request}: {await response.Content.ReadAsStringAsync()}");
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(body.GetProperty("ok").GetBoolean());
            Assert.False(body.GetProperty("duplicate").GetBoolean());
            Assert.Equal("priced", body.GetProperty("costStatus").GetString());

            var retry = await (await ws.Client.PostAsync("/v1/ingest/llm-request", Json(request.Body.ToJsonString()))).Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(retry.GetProperty("duplicate").GetBoolean(), request.ToString());
            Assert.Equal(body.GetProperty("costUsd").GetDecimal(), retry.GetProperty("costUsd").GetDecimal());
        }

        await AssertStoredAsIntendedAsync(ws);
    }

    [Fact]
    public async Task The_same_requests_in_one_batch_are_all_created()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var events = new JsonArray([.. Requests().Select(r => (JsonNode)r.Body.DeepClone())]);

        var response = await ws.Client.PostAsync("/v1/ingest/batch", Json(new JsonObject { ["events"] = events }.ToJsonString()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((10, 0, 0), (body.GetProperty("created").GetInt32(), body.GetProperty("duplicates").GetInt32(), body.GetProperty("rejected").GetInt32()));
        await AssertStoredAsIntendedAsync(ws);
    }

    /// <summary>One row per request, with the tenant and feature from metadata, errorCode as text and no null metadata values.</summary>
    private async Task AssertStoredAsIntendedAsync(TestWorkspace ws)
    {
        var rows = await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).ToDictionaryAsync(r => r.ExternalRequestId));
        var requests = Requests();
        Assert.Equal(requests.Count, rows.Count);
        foreach (var request in requests)
        {
            var row = rows[request.Id];
            Assert.Equal(((string?)request.Meta("tenantId"), (string?)request.Meta("feature")), (row.TenantId, row.FeatureTag));
            Assert.Equal((string)request.Body["endpointTag"]!, row.EndpointTag);
            Assert.Equal((string?)request.Body["userId"], row.UserId);
            Assert.Equal(request.Body["errorCode"]?.ToJsonString().Trim('"'), row.ErrorCode);
            Assert.Equal("priced", row.CostStatus);
            using var metadata = JsonDocument.Parse(row.Metadata!);
            Assert.DoesNotContain(metadata.RootElement.EnumerateObject(), p => p.Value.ValueKind == JsonValueKind.Null);
            Assert.Equal((string)request.Meta("sdkLanguage")!, metadata.RootElement.GetProperty("sdkLanguage").GetString());
        }

        Assert.Equal(["20", "503"], rows.Values.Select(r => r.ErrorCode).Where(c => c is not null && char.IsDigit(c[0])).Order());
        // gpt-4o-mini-2024-07-18 at $0.15 in and $0.60 out per million: 1,200 + 300 tokens cost $0.00036.
        Assert.Equal(0.00036m, rows.Values.First(r => r.InputTokens == 1200).CostUsd);
    }

    [Fact]
    public async Task A_tenant_sent_only_in_metadata_counts_in_tenant_views_budgets_and_the_policy()
    {
        // A month may begin between the events and the budget's evaluation; then the scenario runs again in a new month.
        for (var attempt = 0; !await TenantScenarioAsync(); attempt++)
        {
            Assert.True(attempt < 1, "the scenario crossed a month boundary twice");
        }
    }

    /// <summary>False when the UTC month changed while it ran (its monthly budget would then see none of the events).</summary>
    private async Task<bool> TenantScenarioAsync()
    {
        var month = DateTimeOffset.UtcNow.Month;
        var ws = await app.CreateWorkspaceAsync();
        var full = Requests().First(r => r.Case == "full-context");
        for (var i = 0; i < 3; i++)
        {
            var body = full.Body.DeepClone().AsObject();
            body["externalRequestId"] = $"{full.Id}-{i}";
            body["model"] = "house-model"; // unpriced, so the client's cost decides the spend exactly
            body["costUsd"] = 4;
            (await ws.Client.PostAsync("/v1/ingest/llm-request", Json(body.ToJsonString()))).EnsureSuccessStatusCode();
        }

        var byTenant = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/metrics?groupBy=tenantId&range=24h");
        var row = Assert.Single(byTenant.GetProperty("rows").EnumerateArray());
        Assert.Equal(("tenant-acme", 3, 12m), (row.GetProperty("key").GetString(), row.GetProperty("requests").GetInt32(), row.GetProperty("costUsd").GetDecimal()));

        await CreateBudgetAsync(ws, """{"name":"acme","scope":{"dimension":"tenantId","value":"tenant-acme"},"period":"monthly","limitUsd":10,"onExceeded":"block"}""");
        var policy = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/policy?tenantId=tenant-acme");

        // The next SDK call of that tenant is told at once that its budget is exceeded.
        var next = full.Body.DeepClone().AsObject();
        next["externalRequestId"] = full.Id + "-next";
        var answer = await (await ws.Client.PostAsync("/v1/ingest/llm-request", Json(next.ToJsonString()))).Content.ReadFromJsonAsync<JsonElement>();
        if (DateTimeOffset.UtcNow.Month != month)
        {
            return false;
        }

        Assert.Equal("block", policy.GetProperty("action").GetString());
        Assert.Equal(1.2m, policy.GetProperty("budgets")[0].GetProperty("utilizationRatio").GetDecimal());
        Assert.True(answer.GetProperty("budgetExceeded").GetBoolean());
        return true;
    }

    [Fact]
    public async Task The_top_level_tenant_and_feature_win_over_metadata()
    {
        var ws = await app.CreateWorkspaceAsync();
        var body = Requests().First(r => r.Case == "full-context").Body.DeepClone().AsObject();
        body["tenantId"] = "tenant-top";
        body["featureTag"] = "feature-top";

        (await ws.Client.PostAsync("/v1/ingest", Json(body.ToJsonString()))).EnsureSuccessStatusCode();

        var row = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id));
        Assert.Equal(("tenant-top", "feature-top"), (row.TenantId, row.FeatureTag));
    }

    [Fact]
    public async Task Workspace_status_has_every_field_the_clients_read_without_any_budget()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var request = Requests().First(r => r.Case == "full-context").Body.DeepClone().AsObject();
        var sentAt = DateTimeOffset.UtcNow;
        request["occurredAt"] = sentAt.ToString("O");
        (await ws.Client.PostAsync("/v1/ingest/llm-request", Json(request.ToJsonString()))).EnsureSuccessStatusCode();

        var status = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/workspace-status");

        // A day or month may begin between the post and the status: the event counts where its period says.
        bool Holds(JsonElement period) =>
            sentAt >= period.GetProperty("periodStart").GetDateTimeOffset() && sentAt < period.GetProperty("periodEnd").GetDateTimeOffset();
        var plan = status.GetProperty("plan");
        Assert.Equal(("self-hosted", Holds(plan) ? 1 : 0), (plan.GetProperty("planTier").GetString(), plan.GetProperty("currentRequestCount").GetInt32()));
        Assert.False(string.IsNullOrEmpty(plan.GetProperty("planName").GetString()));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (plan.GetProperty("planRequestLimit").ValueKind, plan.GetProperty("remainingRequestCount").ValueKind));
        Assert.False(plan.GetProperty("isPlanLimitReached").GetBoolean() || plan.GetProperty("telemetryPaused").GetBoolean());
        var monthStart = plan.GetProperty("periodStart").GetDateTimeOffset();
        Assert.Equal((1, TimeSpan.Zero, monthStart.AddMonths(1)), (monthStart.Day, monthStart.TimeOfDay, plan.GetProperty("periodEnd").GetDateTimeOffset()));

        foreach (var (name, length) in new[] { ("daily", TimeSpan.FromDays(1)), ("monthly", monthStart.AddMonths(1) - monthStart) })
        {
            var block = status.GetProperty("budget").GetProperty(name);
            Assert.Equal(JsonValueKind.Null, block.GetProperty("limitUsd").ValueKind);
            // 2,000 in + 500 out of gpt-4o-mini
            Assert.Equal(Holds(block) ? 0.0006m : 0m, block.GetProperty("currentSpendUsd").GetDecimal());
            Assert.Equal((0m, false, false, name), (block.GetProperty("utilizationRatio").GetDecimal(), block.GetProperty("isWarning").GetBoolean(),
                block.GetProperty("isExceeded").GetBoolean(), block.GetProperty("period").GetString()));
            Assert.Equal(length, block.GetProperty("periodEnd").GetDateTimeOffset() - block.GetProperty("periodStart").GetDateTimeOffset());
        }

        Assert.Equal(("normal", false, false, true), (status.GetProperty("severity").GetString(), status.GetProperty("isPlanLimitReached").GetBoolean(),
            status.GetProperty("telemetryPaused").GetBoolean(), status.GetProperty("providerCallsContinue").GetBoolean()));
    }

    [Theory]
    [InlineData("/v1/ingest/demo-data", "demo")]
    [InlineData("/v1/ingest/test-data", "test")]
    public async Task Deleting_only_my_keys_rows_is_refused_and_deletes_nothing(string path, string dataMode)
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestCostAsync(ws, 1m, DateTimeOffset.UtcNow.AddMinutes(-1), dataMode: dataMode);

        var mine = await ws.Client.DeleteAsync(path + "?scope=mine");

        Assert.Equal(HttpStatusCode.BadRequest, mine.StatusCode);
        Assert.Equal("application/problem+json", mine.Content.Headers.ContentType?.MediaType);
        Assert.Contains("does not record which API key", (await mine.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));

        var all = await ws.Client.DeleteAsync(path);
        Assert.Equal(1, (await all.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetInt32());
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public void The_fixture_holds_what_the_clients_send()
    {
        var requests = Requests();
        Assert.Equal(10, requests.Count);
        Assert.All(requests, r => Assert.Null(r.Body["tenantId"])); // SDKs send the tenant only in metadata
        Assert.Contains(requests, r => r.Body["errorCode"]?.GetValueKind() == JsonValueKind.Number);
        Assert.Contains(requests, r => r.Meta("tenantId") is null && r.Meta("feature") is not null);
    }

    [Fact]
    public async Task A_metadata_value_that_is_not_text_is_refused_alone()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var body = Requests().First(r => r.Case == "full-context").Body.DeepClone().AsObject();
        var poisoned = body.ToJsonString().Replace("\"tenantId\":\"tenant-acme\"", "\"tenantId\":\"\\ud800\"", StringComparison.Ordinal);
        Assert.Contains("\\ud800", poisoned);

        var single = await ws.Client.PostAsync("/v1/ingest/llm-request", Json(poisoned));
        var batch = await ws.Client.PostAsync("/v1/ingest/batch", Json($$"""{"events":[{{poisoned}},{{new TestEvent { ExternalRequestId = "fine" }.Json()}}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        Assert.True((await single.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("metadata.tenantId", out _));
        Assert.Equal(HttpStatusCode.MultiStatus, batch.StatusCode);
        var results = (await batch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results");
        Assert.Equal(("rejected", "created"), (results[0].GetProperty("status").GetString(), results[1].GetProperty("status").GetString()));
    }

    [Theory]
    [InlineData("?environment=dev")]
    [InlineData("?scope=workspace&keyId=k1")]
    [InlineData("?scope=mine&scope=workspace")]
    public async Task Deleting_with_a_filter_it_would_not_apply_is_refused(string query)
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestCostAsync(ws, 1m, DateTimeOffset.UtcNow.AddMinutes(-1), dataMode: "demo");

        var response = await ws.Client.DeleteAsync("/v1/ingest/demo-data" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }
}
