using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Pricing;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Ingest;

/// <summary>
/// occurredAt is bounded below by the workspace's raw retention, and one poisoned event never fails other events: not its
/// batch neighbours, not the requests that share its group commit.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class OccurredAtBoundTests(OpsmeterApp app)
{
    private static string Event(string id, string? occurredAt = null) => new TestEvent
    {
        ExternalRequestId = id,
        OccurredAt = occurredAt is null ? null : DateTimeOffset.Parse(occurredAt, System.Globalization.CultureInfo.InvariantCulture),
    }.Json();

    [Theory]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("1990-06-01T12:00:00Z")]
    public async Task An_event_older_than_raw_retention_is_refused_naming_the_limit(string occurredAt)
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", Json(Event("old", occurredAt)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var message = Assert.Single(problem.GetProperty("errors").GetProperty("occurredAt").EnumerateArray()).GetString();
        Assert.Contains("raw retention of 30 days", message);
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task An_event_inside_retention_is_stored_at_its_own_time()
    {
        var ws = await app.CreateWorkspaceAsync();
        var occurredAt = DateTimeOffset.UtcNow.AddDays(-29).AddHours(1);

        var response = await ws.Client.PostAsync("/v1/ingest", Json(Event("late", occurredAt.ToString("O"))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id));
        Assert.Equal(occurredAt.ToUnixTimeMilliseconds(), stored.OccurredAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_poisoned_entry_leaves_its_batch_neighbours_created_and_concurrent_requests_answered()
    {
        var ws = await app.CreateWorkspaceAsync();
        var others = await app.CreateWorkspaceAsync();
        var batch = $$"""{"events":[{{Event("n-1")}},{{Event("poison", "0001-01-01T00:00:00Z")}},{{Event("n-2")}},{{Event("n-3", DateTimeOffset.UtcNow.AddDays(-2).ToString("O"))}}]}""";

        // The batch goes out again and again (as a client told 503 would retry it) while other requests share its commits.
        var batches = Enumerable.Range(0, 5).Select(_ => ws.Client.PostAsync("/v1/ingest/batch", Json(batch))).ToList();
        var singles = Enumerable.Range(0, 40).Select(i => others.Client.PostAsync("/v1/ingest", Json(Event($"s-{i}")))).ToList();
        var answers = await Task.WhenAll(batches.Concat(singles));

        Assert.All(answers[5..], a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        foreach (var answer in answers[..5])
        {
            Assert.Equal(HttpStatusCode.MultiStatus, answer.StatusCode);
            var results = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToList();
            Assert.Equal("rejected", results[1].GetProperty("status").GetString());
            Assert.True(results[1].GetProperty("errors").TryGetProperty("occurredAt", out _));
            Assert.All(results.Where((_, i) => i != 1), r => Assert.Contains(r.GetProperty("status").GetString(), new[] { "created", "duplicate" }));
        }

        Assert.Equal(["n-1", "n-2", "n-3"], await app.WithDbAsync(db =>
            db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).Select(r => r.ExternalRequestId).OrderBy(id => id).ToListAsync()));
        Assert.Equal(40, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == others.Id)));
    }

    [Fact]
    public async Task A_day_whose_partition_cannot_be_made_fails_only_its_own_request()
    {
        // Validation keeps such a day out of the API now; below it, the writer must still not let one request's
        // partition fail the group commit it would share with others.
        var ws = await app.CreateWorkspaceAsync();
        var writer = app.Services.GetRequiredService<IngestWriter>();
        var catalog = app.Services.GetRequiredService<PriceCatalog>();
        LlmRequest Row(string id, DateTimeOffset occurredAt) => PriceEvent.From(new IngestEventRequest
        {
            ExternalRequestId = id, Provider = "openai", Model = "gpt-4o-mini", InputTokens = 10, OutputTokens = 1, Status = "success",
            OccurredAt = occurredAt,
        }, ws.Id, DateTimeOffset.UtcNow, catalog).Row;

        var poisoned = writer.SubmitAsync([Row("poison", DateTimeOffset.MinValue)]);
        var good = Enumerable.Range(0, 20).Select(i => writer.SubmitAsync([Row($"good-{i}", DateTimeOffset.UtcNow)])).ToList();

        await Assert.ThrowsAsync<IngestUnavailableException>(() => poisoned);
        Assert.All(await Task.WhenAll(good), outcomes => Assert.False(Assert.Single(outcomes).Duplicate));
        Assert.Equal(20, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }
}
