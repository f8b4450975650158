using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Ingest;

[Collection(SharedApp.Name)]
public sealed class IngestBatchTests(OpsmeterApp app)
{
    [Fact]
    public async Task One_bad_event_rejects_only_itself()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", Json("""{"externalRequestId":"b","provider":"openai","model":"gpt-4o","inputTokens":1000,"outputTokens":100,"status":"success"}"""));

        var response = await ws.Client.PostAsync("/v1/ingest/batch", Json("""
            {"events":[
              {"externalRequestId":"a","provider":"openai","model":"gpt-4o-mini","inputTokens":1000,"outputTokens":200,"status":"success"},
              {"externalRequestId":"b","provider":"openai","model":"gpt-4o","inputTokens":5,"outputTokens":5,"status":"success"},
              {"externalRequestId":"c","provider":"openai","model":"gpt-4o","inputTokens":"many","outputTokens":5,"status":"success"},
              {"externalRequestId":"d","provider":"acme","model":"unknown-model","inputTokens":1,"outputTokens":1,"status":"success"},
              {"externalRequestId":"e","provider":"openai","inputTokens":1,"outputTokens":1,"status":"success"},
              {"externalRequestId":"a","provider":"openai","model":"gpt-4o-mini","inputTokens":1,"outputTokens":1,"status":"success"}
            ]}
            """));

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((2, 2, 2), (body.GetProperty("created").GetInt32(), body.GetProperty("duplicates").GetInt32(), body.GetProperty("rejected").GetInt32()));
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["created", "duplicate", "rejected", "created", "rejected", "duplicate"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(0.00027m, results[0].GetProperty("costUsd").GetDecimal());
        // gpt-4o: 1000·2.50/1e6 + 100·10/1e6 = 0.0025 + 0.001: the stored cost, not the retry's
        Assert.Equal(0.0035m, results[1].GetProperty("costUsd").GetDecimal());
        Assert.True(results[2].GetProperty("errors").TryGetProperty("inputTokens", out _));
        Assert.Equal("unpriced", results[3].GetProperty("costStatus").GetString());
        Assert.True(results[4].GetProperty("errors").TryGetProperty("model", out _));
        Assert.Equal(0.00027m, results[5].GetProperty("costUsd").GetDecimal());
        Assert.Equal(3, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Entries_that_are_not_events_are_rejected_alone_and_named_where_possible()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest/batch", Json("""
            {"events":[
              null, "an event", 42, [1, 2],
              {"externalRequestId":"t1","provider":"openai","model":"gpt-4o","inputTokens":{"n":1},"outputTokens":1,"status":"success"},
              {"externalRequestId":"t2","provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}
            ]}
            """));

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((1, 5), (body.GetProperty("created").GetInt32(), body.GetProperty("rejected").GetInt32()));
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.All(results.Take(4), r => Assert.True(r.GetProperty("errors").TryGetProperty("", out _), r.ToString()));
        Assert.Equal("t1", results[4].GetProperty("externalRequestId").GetString());
        Assert.True(results[4].GetProperty("errors").TryGetProperty("inputTokens", out _), results[4].ToString());
        Assert.Equal(("t2", "created"), (results[5].GetProperty("externalRequestId").GetString(), results[5].GetProperty("status").GetString()));
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task A_clean_batch_is_200()
    {
        var ws = await app.CreateWorkspaceAsync();
        var events = string.Join(",", Enumerable.Range(0, 1000).Select(i =>
            $$"""{"externalRequestId":"e{{i}}","provider":"anthropic","model":"claude-sonnet-4-5-20250929","inputTokens":100,"outputTokens":10,"status":"success"}"""));

        var response = await ws.Client.PostAsync("/v1/ingest/batch", Json($$"""{"events":[{{events}}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1000, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32());
        Assert.Equal(1000, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Theory]
    [InlineData("""{"events":[]}""", "events")]
    [InlineData("""{}""", "events")]
    [InlineData("""{"events":{"a":1}}""", "events")]
    [InlineData("""[1,2]""", "")]
    public async Task An_unusable_batch_body_is_400(string json, string errorKey)
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest/batch", Json(json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(errorKey, out _), errors.ToString());
    }

    [Fact]
    public async Task More_than_1000_events_is_400()
    {
        var ws = await app.CreateWorkspaceAsync();
        var events = string.Join(",", Enumerable.Repeat("""{"provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}""", 1001));

        var response = await ws.Client.PostAsync("/v1/ingest/batch", Json($$"""{"events":[{{events}}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }
}
