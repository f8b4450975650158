using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Ingest;

[Collection(SharedApp.Name)]
public sealed class IngestTests(OpsmeterApp app)
{
    private static string Event(string id, string model = "gpt-4o-mini", int input = 100, int output = 50, string extra = "") =>
        $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"{{model}}","inputTokens":{{input}},"outputTokens":{{output}},"status":"success"{{extra}}}""";

    [Fact]
    public async Task Ingest_prices_and_stores_the_event_and_answers_after_commit()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", Json(Event("req-1", input: 1000, output: 200,
            extra: ""","endpointTag":"support.reply","promptVersion":"v3","userId":"u1","tenantId":"t1","latencyMs":420,"metadata":{"team":"a","n":3,"beta":true}""")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("ok").GetBoolean());
        Assert.False(body.GetProperty("duplicate").GetBoolean());
        // gpt-4o-mini: $0.15 in, $0.60 out per million → 1000·0.15/1e6 + 200·0.60/1e6 = 0.00015 + 0.00012
        Assert.Equal(0.00027m, body.GetProperty("costUsd").GetDecimal());
        Assert.Equal("priced", body.GetProperty("costStatus").GetString());
        Assert.Equal("gpt-4o-mini", body.GetProperty("pricing").GetProperty("model").GetString());
        Assert.Equal("self-hosted", body.GetProperty("planTier").GetString());
        Assert.True(body.GetProperty("providerCallsContinue").GetBoolean());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("reason").ValueKind);

        var stored = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id));
        Assert.Equal("req-1", stored.ExternalRequestId);
        Assert.Equal(0.00027m, stored.CostUsd);
        Assert.Equal(0.00015m, stored.InputCostUsd);
        Assert.Equal(0.00012m, stored.OutputCostUsd);
        Assert.Equal("support.reply", stored.EndpointTag);
        Assert.Equal(1200, stored.TotalTokens);
        Assert.Equal(420, stored.LatencyMs);
        Assert.NotNull(stored.PriceId);
        Assert.Contains("\"team\"", stored.Metadata, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Defaults_apply_and_warnings_explain_them()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest/llm-request",
            Json("""{"provider":"openai","model":"gpt-4o-mini","inputTokens":10,"outputTokens":5,"totalTokens":99,"status":"SUCCESS","dataMode":"TEST","environment":"Staging"}"""));

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var warnings = body.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.Contains("externalRequestId", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("totalTokens", StringComparison.Ordinal));
        var stored = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id));
        Assert.Equal(body.GetProperty("externalRequestId").GetString(), stored.ExternalRequestId);
        Assert.Equal(("unknown", "unknown", "test", "staging", "success", 99L),
            (stored.EndpointTag, stored.PromptVersion, stored.DataMode, stored.Environment, stored.Status, stored.TotalTokens));
    }

    [Fact]
    public async Task A_repeated_externalRequestId_is_a_duplicate_with_the_stored_cost()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", Json(Event("dup-1", input: 1000, output: 200)));

        var again = await ws.Client.PostAsync("/v1/ingest", Json(Event("dup-1", model: "gpt-4o", input: 999_999, output: 1)));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var body = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("duplicate").GetBoolean());
        Assert.Equal(0.00027m, body.GetProperty("costUsd").GetDecimal());
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Twenty_concurrent_retries_store_one_row()
    {
        var ws = await app.CreateWorkspaceAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ws.Client.PostAsync("/v1/ingest", Json(Event("race-1")))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var duplicates = await Task.WhenAll(responses.Select(async r =>
            (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean()));
        Assert.Equal(1, duplicates.Count(d => !d));
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Idempotency_keys_are_per_workspace()
    {
        var first = await app.CreateWorkspaceAsync();
        var second = await app.CreateWorkspaceAsync();

        var a = await (await first.Client.PostAsync("/v1/ingest", Json(Event("shared-id")))).Content.ReadFromJsonAsync<JsonElement>();
        var b = await (await second.Client.PostAsync("/v1/ingest", Json(Event("shared-id")))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.False(a.GetProperty("duplicate").GetBoolean());
        Assert.False(b.GetProperty("duplicate").GetBoolean());
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == second.Id)));
    }

    [Fact]
    public async Task An_unknown_model_is_stored_unpriced_and_a_client_cost_is_kept()
    {
        var ws = await app.CreateWorkspaceAsync();

        var unpriced = await (await ws.Client.PostAsync("/v1/ingest", Json(Event("u-1", model: "my-finetune-xyz"))))
            .Content.ReadFromJsonAsync<JsonElement>();
        var reported = await (await ws.Client.PostAsync("/v1/ingest", Json(Event("u-2", model: "my-finetune-xyz", extra: ""","costUsd":0.0042"""))))
            .Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(("unpriced", 0m), (unpriced.GetProperty("costStatus").GetString(), unpriced.GetProperty("costUsd").GetDecimal()));
        Assert.Equal(JsonValueKind.Null, unpriced.GetProperty("pricing").ValueKind);
        Assert.Equal(("client_reported", 0.0042m), (reported.GetProperty("costStatus").GetString(), reported.GetProperty("costUsd").GetDecimal()));
        Assert.Equal(2, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id && r.PriceId == null)));
    }

    [Fact]
    public async Task Validation_errors_are_keyed_by_field_and_store_nothing()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest",
            Json("""{"provider":"openai","inputTokens":-1,"outputTokens":5,"cachedInputTokens":3,"status":"maybe","metadata":{"team":{"nested":1}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "model", "inputTokens", "status", "metadata.team" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }

        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Keys_are_checked_401_without_and_403_without_the_scope()
    {
        var readOnly = await app.CreateWorkspaceAsync("read");
        using var anonymous = app.CreateClient();
        using var unknown = app.CreateClient();
        unknown.DefaultRequestHeaders.Add("X-API-Key", "om_nothere_0000000000000000000000000000");

        var none = await anonymous.PostAsync("/v1/ingest", Json(Event("k-1")));
        var wrong = await unknown.PostAsync("/v1/ingest", Json(Event("k-1")));
        var noScope = await readOnly.Client.PostAsync("/v1/ingest", Json(Event("k-1")));

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, noScope.StatusCode);
        Assert.Equal("application/problem+json", noScope.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_bearer_token_works_like_X_API_Key()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", ws.Key);

        var response = await client.PostAsync("/v1/ingest", Json(Event("bearer-1")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Wrong_content_type_is_415_and_an_oversized_body_413()
    {
        var ws = await app.CreateWorkspaceAsync();

        var text = await ws.Client.PostAsync("/v1/ingest", new StringContent(Event("ct-1"), System.Text.Encoding.UTF8, "text/plain"));
        var big = await ws.Client.PostAsync("/v1/ingest", Json(Event("big-1", extra: $$""","errorCode":"{{new string('x', 70_000)}}" """)));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal("application/problem+json", big.Content.Headers.ContentType?.MediaType);
    }
}
