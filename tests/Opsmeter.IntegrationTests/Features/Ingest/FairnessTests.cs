using System.Collections.Concurrent;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Ingest;

/// <summary>One workspace flooding ingest cannot fill the shared queue: it is refused (429) while the others are still taken.</summary>
public sealed class FairnessTests
{
    private static StringContent Batch(string prefix, int first, int size) => HttpExtensions.Json(
        "{\"events\":[" + string.Join(",", Enumerable.Range(first, size).Select(n => Event($"{prefix}-{n}"))) + "]}");

    private static string Event(string id) =>
        $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o","inputTokens":10,"outputTokens":5,"status":"success"}""";

    [Fact]
    public async Task A_flooding_workspace_gets_429_with_Retry_After_while_a_quiet_one_is_acknowledged_every_time()
    {
        // Small queue so the flood reaches its share at once; the per-key rate limit off, so every refusal is the share's.
        await using var app = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:Ingest:MaxQueuedEvents"] = "2000",
            ["Opsmeter:Ingest:MaxQueuedEventsPerWorkspace"] = "50",
            ["Opsmeter:RateLimits:PerKeyPerSecond"] = "0",
        });
        await app.InitializeAsync();
        var noisy = await app.CreateWorkspaceAsync();
        var quiet = await app.CreateWorkspaceAsync();
        var refusals = new ConcurrentBag<HttpResponseMessage>();
        var flooded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long acknowledgedNoisy = 0, otherNoisy = 0, next = 0;
        using var stop = new CancellationTokenSource();
        var flood = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var response = await noisy.Client.PostAsync("/v1/ingest/batch", Batch("noisy", (int)Interlocked.Add(ref next, 50), 50));
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        Interlocked.Increment(ref acknowledgedNoisy);
                        break;
                    case HttpStatusCode.TooManyRequests:
                        refusals.Add(response);
                        flooded.TrySetResult();
                        break;
                    default:
                        Interlocked.Increment(ref otherNoisy);
                        break;
                }
            }
        })).ToArray();
        // Deadline, not a wait: the flood is refused as soon as 16 batches of 50 compete for a share of 50.
        await Task.WhenAny(flooded.Task, Task.Delay(TimeSpan.FromSeconds(60)));

        var quietAnswers = new List<HttpStatusCode>();
        for (var i = 0; i < 30 && !flood.Any(t => t.IsCompleted); i++)
        {
            quietAnswers.Add((await quiet.Client.PostAsync("/v1/ingest", HttpExtensions.Json(Event($"quiet-{i}")))).StatusCode);
        }

        await stop.CancelAsync();
        await Task.WhenAll(flood);

        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After"));
        var problem = await refusals.First().Content.ReadAsStringAsync();
        Assert.Contains("share of the ingest queue", problem);
        Assert.Equal(0, otherNoisy);
        Assert.True(acknowledgedNoisy > 0, "the flooding workspace is slowed, not shut out");
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 30), quietAnswers);
        Assert.Equal(30, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == quiet.Id)));
        // Nothing of a refused batch was stored: the noisy workspace holds exactly its acknowledged batches.
        Assert.Equal(acknowledgedNoisy * 50, await app.WithDbAsync(db => db.LlmRequests.LongCountAsync(r => r.WorkspaceId == noisy.Id)));
    }
}
