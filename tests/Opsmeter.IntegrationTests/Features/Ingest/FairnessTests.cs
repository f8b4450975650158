using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.IntegrationTests.Features.Ingest;

/// <summary>
/// One workspace flooding ingest cannot fill the shared queue (it is refused, 429, while the others are still taken) nor
/// hold more than its admission budget of requests in flight.
/// </summary>
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

    [Fact]
    public async Task A_stalled_upload_holds_only_its_own_workspace_whose_next_requests_wait_then_get_429()
    {
        // A budget of 2,000 body bytes in flight and 2,000 waiting per workspace. Kestrel's minimum upload rate would end
        // the stalled upload after a few seconds (as it should in production): off here, so the stall lasts as long as the test.
        await using var app = new OpsmeterApp(
            new Dictionary<string, string>
            {
                ["Opsmeter:Ingest:MaxInFlightBytesPerWorkspace"] = "2000",
                ["Opsmeter:Ingest:MaxWaitingBytesPerWorkspace"] = "2000",
            },
            services => services.Configure<KestrelServerOptions>(k => k.Limits.MinRequestBodyDataRate = null));
        await app.InitializeAsync();
        var noisy = await app.CreateWorkspaceAsync();
        var quiet = await app.CreateWorkspaceAsync();
        var admission = app.Services.GetRequiredService<IngestAdmission>();
        Task Until(string what, Func<RateLimiterStatistics, bool> state) =>
            Eventually.UntilAsync(() => Task.FromResult(state(admission.Statistics(noisy.Id)!)), TimeSpan.FromSeconds(60), what);

        // A client uploads a large batch halfway and stalls: it takes the workspace's whole budget. (A plain client: the
        // factory's own buffers a request body before sending it.)
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var uploader = new HttpClient { BaseAddress = noisy.Client.BaseAddress };
        uploader.DefaultRequestHeaders.Add("X-API-Key", noisy.Key);
        var stalled = uploader.PostAsync("/v1/ingest/batch", new StalledContent(Encoding.UTF8.GetBytes(
            "{\"events\":[" + string.Join(",", Enumerable.Range(0, 30).Select(n => Event($"stalled-{n}"))) + "]}"), resume.Task));
        await Until("the stalled upload admitted", s => s.CurrentAvailablePermits == 0);

        // The workspace's next batch waits its turn (unread); the one after finds the waiting room full.
        var waiting = noisy.Client.PostAsync("/v1/ingest/batch", Batch("waiting", 0, 20));
        await Until("the next batch waiting", s => s.CurrentQueuedCount == 2000); // permits (bytes) waiting: all of the batch
        var refused = await noisy.Client.PostAsync("/v1/ingest", HttpExtensions.Json(Event("refused")));
        var other = await quiet.Client.PostAsync("/v1/ingest/batch", Batch("quiet", 0, 20));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        Assert.Contains("waiting for their turn", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, other.StatusCode); // another workspace is not held up
        Assert.False(waiting.IsCompleted);

        resume.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await stalled).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await waiting).StatusCode);
        Assert.Equal(50, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == noisy.Id)));
    }

    [Fact]
    public async Task While_another_workspace_sends_a_workspace_over_its_byte_rate_waits_then_gets_429_and_the_other_is_still_taken()
    {
        // 2,000 body bytes in flight and 2,000 waiting per workspace, and while sharing 1 byte a second after a burst of 2,000:
        // once a workspace has spent its burst, its next request waits for tokens (for half an hour: the test never lets it
        // through), holding its budget, the one after waits for the budget, and the one after that is refused.
        await using var app = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:Ingest:MaxInFlightBytesPerWorkspace"] = "2000",
            ["Opsmeter:Ingest:MaxWaitingBytesPerWorkspace"] = "2000",
            ["Opsmeter:Ingest:SharedBytesPerSecondPerWorkspace"] = "1",
        });
        await app.InitializeAsync();
        var noisy = await app.CreateWorkspaceAsync();
        var quiet = await app.CreateWorkspaceAsync();
        var admission = app.Services.GetRequiredService<IngestAdmission>();
        Task Until(string what, Func<bool> state) => Eventually.UntilAsync(() => Task.FromResult(state()), TimeSpan.FromSeconds(60), what);
        // Prefixes of one length, so every batch has the same size: one fits the burst and the budget, two do not.
        StringContent NoisyBatch(string prefix) => Batch(prefix, 0, 14);
        var size = (int)NoisyBatch("burst").Headers.ContentLength!;
        Assert.InRange(size, 1001, 1999);

        Assert.Equal(HttpStatusCode.OK, (await quiet.Client.PostAsync("/v1/ingest", HttpExtensions.Json(Event("quiet-first")))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await noisy.Client.PostAsync("/v1/ingest/batch", NoisyBatch("burst"))).StatusCode);
        var overRate = noisy.Client.PostAsync("/v1/ingest/batch", NoisyBatch("ovrat"));
        await Until("the batch over the rate waiting for tokens", () => admission.SharedRateStatistics(noisy.Id)!.CurrentQueuedCount > 0);
        var waiting = noisy.Client.PostAsync("/v1/ingest/batch", NoisyBatch("waitg"));
        await Until("the next batch waiting for the budget", () => admission.Statistics(noisy.Id)!.CurrentQueuedCount == size);
        var refused = await noisy.Client.PostAsync("/v1/ingest/batch", NoisyBatch("refsd"));
        var other = await quiet.Client.PostAsync("/v1/ingest/batch", Batch("quiet", 0, 14));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode); // the other workspace has its own share
        Assert.False(overRate.IsCompleted);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(14, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == noisy.Id)));
    }

    [Fact]
    public async Task While_another_workspace_sends_many_small_requests_count_as_large_ones_so_a_single_event_flood_is_held_too()
    {
        // The default budget (1 MiB) and, while sharing, 1 byte a second after a burst of one budget: each single event counts
        // 2 KiB, so 512 pass, 512 wait for tokens, and the rest are refused although their bodies fill a fraction of the budget.
        await using var app = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:Ingest:SharedBytesPerSecondPerWorkspace"] = "1" });
        await app.InitializeAsync();
        var noisy = await app.CreateWorkspaceAsync();
        var quiet = await app.CreateWorkspaceAsync();
        const int perBudget = 1024 * 1024 / IngestAdmission.MinimumCharge;
        Assert.Equal(HttpStatusCode.OK, (await quiet.Client.PostAsync("/v1/ingest", HttpExtensions.Json(Event("quiet-first")))).StatusCode);

        var answers = new ConcurrentQueue<HttpResponseMessage>();
        async Task Send(int n) => answers.Enqueue(await noisy.Client.PostAsync("/v1/ingest", HttpExtensions.Json(Event($"flood-{n}"))));
        var flood = Enumerable.Range(0, 2 * perBudget + 40).Select(Send).ToList();
        int Answered(HttpStatusCode status) => answers.Count(a => a.StatusCode == status);
        await Eventually.UntilAsync(() => Task.FromResult(Answered(HttpStatusCode.OK) == perBudget && Answered(HttpStatusCode.TooManyRequests) == 40),
            TimeSpan.FromSeconds(60), "the burst taken and the requests past the waiting room refused");
        var other = await quiet.Client.PostAsync("/v1/ingest", HttpExtensions.Json(Event("quiet-during")));

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(perBudget, flood.Count(t => !t.IsCompleted)); // waiting for tokens, not refused
        Assert.All(answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests),
            refused => Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After"));
        Assert.Equal(perBudget, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == noisy.Id)));
    }

    /// <summary>A JSON body of known length whose second half is sent only when the task it is given completes.</summary>
    private sealed class StalledContent : HttpContent
    {
        private readonly byte[] body;
        private readonly Task resume;

        public StalledContent(byte[] body, Task resume)
        {
            (this.body, this.resume) = (body, resume);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await stream.FlushAsync();
            await resume;
            await stream.WriteAsync(body.AsMemory(body.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
