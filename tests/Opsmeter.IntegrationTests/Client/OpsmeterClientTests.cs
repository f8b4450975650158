using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.Client;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Client;

/// <summary>The .NET SDK against the real server over HTTP: what it tracks is stored, once, with its attribution.</summary>
[Collection(SharedApp.Name)]
public sealed class OpsmeterClientTests(OpsmeterApp app)
{
    internal static ServiceProvider Services(TestWorkspace ws, Action<OpsmeterOptions>? more = null, Func<DelegatingHandler>? handler = null,
        TimeProvider? clock = null)
    {
        var services = new ServiceCollection();
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }

        services.AddOpsmeter(o =>
        {
            o.BaseUrl = ws.Client.BaseAddress;
            o.ApiKey = ws.Key;
            o.RetryDelay = TimeSpan.FromMilliseconds(10);
            o.Timeout = TimeSpan.FromSeconds(10); // a busy CI machine; the default 600 ms is for apps
            more?.Invoke(o);
        });
        if (handler is not null)
        {
            services.AddHttpClient("Opsmeter").AddHttpMessageHandler(handler);
        }

        return services.BuildServiceProvider();
    }

    internal static OpsmeterEvent Call(string id) => new() { ExternalRequestId = id, Provider = "openai", Model = "gpt-4o-mini", InputTokens = 1000, OutputTokens = 100 };

    private Task<List<Web.Features.Events.LlmRequest>> StoredAsync(TestWorkspace ws) =>
        app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).OrderBy(r => r.ExternalRequestId).ToListAsync());

    [Fact]
    public void Ids_made_for_events_without_one_are_distinct_and_fit_the_servers_limit()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => OpsmeterClient.NewRequestId()).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(id.StartsWith("om_", StringComparison.Ordinal) && id.Length <= 128, id));
    }

    [Fact]
    public async Task Tracked_events_are_stored_with_the_ambient_attribution_nested_and_overridden()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        await using var services = Services(ws, o => o.Environment = "staging");
        var client = services.GetRequiredService<IOpsmeterClient>();

        using (OpsmeterContext.Begin(endpointTag: "support.reply", promptVersion: "v3", userId: "u1", tenantId: "t1"))
        {
            client.Track(Call("a"));
            using (OpsmeterContext.Begin(promptVersion: "v4"))
            {
                await Task.Yield(); // the scope flows across awaits
                client.Track(Call("b"));
            }

            client.Track(Call("c") with { UserId = "u2" });
        }

        client.Track(Call("d"));
        await client.FlushAsync();

        var rows = await StoredAsync(ws);
        Assert.Equal(
            [("a", "support.reply", "v3", "u1", "t1"), ("b", "support.reply", "v4", "u1", "t1"), ("c", "support.reply", "v3", "u2", "t1"),
             ("d", "unknown", "unknown", null, null)],
            rows.Select(r => (r.ExternalRequestId, r.EndpointTag, r.PromptVersion, r.UserId, r.TenantId)));
        Assert.All(rows, r => Assert.Equal(("staging", "real", "priced"), (r.Environment, r.DataMode, r.CostStatus)));
    }

    [Fact]
    public async Task A_lost_answer_is_retried_with_the_same_ids_and_stored_once()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var lost = new LoseFirstAnswer();
        await using var services = Services(ws, handler: () => lost);
        var client = services.GetRequiredService<IOpsmeterClient>();

        client.Track(Call("r1"));
        client.Track(Call("r2"));
        await client.FlushAsync();

        Assert.Equal(2, lost.Requests); // the server stored the first one; its answer never arrived; the retry was a duplicate
        Assert.Equal(["r1", "r2"], (await StoredAsync(ws)).Select(r => r.ExternalRequestId));
    }

    [Fact]
    public async Task A_full_queue_drops_the_oldest_and_counts_them()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        await using var services = Services(ws, o => o.MaxQueuedEvents = 2);
        using var dropped = new CounterReader("opsmeter.client.events.dropped");
        var client = new OpsmeterClient(services.GetRequiredService<IHttpClientFactory>(), services.GetRequiredService<IOptions<OpsmeterOptions>>(),
            TimeProvider.System, NullLogger<OpsmeterClient>.Instance, start: false);

        foreach (var id in new[] { "q1", "q2", "q3", "q4", "q5" })
        {
            client.Track(Call(id));
        }

        client.Start();
        await client.FlushAsync();
        await client.DisposeAsync();

        Assert.Equal(["q4", "q5"], (await StoredAsync(ws)).Select(r => r.ExternalRequestId));
        Assert.Equal(3, dropped.Total);
    }

    [Fact]
    public async Task A_429_is_waited_out_for_its_Retry_After_before_the_retry()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var clock = new TimerWatchingClock(TimeSpan.FromSeconds(30));
        var limited = new TooManyRequestsFirst(TimeSpan.FromSeconds(30));
        await using var services = Services(ws, handler: () => limited, clock: clock);
        var client = services.GetRequiredService<IOpsmeterClient>();

        client.Track(Call("w1"));
        var flushed = client.FlushAsync();
        await limited.Refused.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await clock.Armed.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the client now waits for the Retry-After

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(1, limited.Requests); // still waiting: the retry's delay runs on the client's clock
        clock.Advance(TimeSpan.FromSeconds(1));
        await flushed.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, limited.Requests);
        Assert.Equal(["w1"], (await StoredAsync(ws)).Select(r => r.ExternalRequestId));
    }

    [Fact]
    public async Task A_402_pauses_sending_and_the_events_go_out_after_the_pause()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var clock = new TimerWatchingClock(TimeSpan.FromMinutes(1));
        var quota = new StatusFirst(HttpStatusCode.PaymentRequired);
        await using var services = Services(ws, o => o.QuotaPause = TimeSpan.FromMinutes(1), handler: () => quota, clock: clock);
        var client = services.GetRequiredService<IOpsmeterClient>();

        client.Track(Call("p1"));
        var flushed = client.FlushAsync();
        await clock.Armed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        client.Track(Call("p2")); // still queued while paused

        Assert.Equal(1, quota.Requests);
        clock.Advance(TimeSpan.FromMinutes(1));
        await client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await flushed;

        Assert.Equal(["p1", "p2"], (await StoredAsync(ws)).Select(r => r.ExternalRequestId));
    }

    [Fact]
    public async Task A_server_that_hangs_costs_the_caller_nothing_and_the_event_counts_as_failed()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var hang = new Hang();
        await using var services = Services(ws, o => (o.Timeout, o.MaxAttempts) = (TimeSpan.FromMilliseconds(200), 2), handler: () => hang);
        using var failed = new CounterReader("opsmeter.client.events.failed");
        var client = services.GetRequiredService<IOpsmeterClient>();

        client.Track(Call("h1")); // returns while the server hangs: sending is the background loop's
        await hang.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30)); // each try times out, then it gives up

        Assert.Equal(1, failed.Total);
        Assert.Empty(await StoredAsync(ws));
    }

    /// <summary>Never answers; the client's timeout ends each request.</summary>
    private sealed class Hang : DelegatingHandler
    {
        public readonly TaskCompletionSource Reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Reached.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    /// <summary>Answers the first request with <paramref name="status"/>; passes the rest to the server.</summary>
    private sealed class StatusFirst(HttpStatusCode status) : DelegatingHandler
    {
        public int Requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref Requests) == 1 ? Task.FromResult(new HttpResponseMessage(status)) : base.SendAsync(request, cancellationToken);
    }

    /// <summary>A fake clock that says when a timer of at least <paramref name="due"/> is set (the retry's wait, not the flush interval's).</summary>
    private sealed class TimerWatchingClock(TimeSpan due) : FakeTimeProvider(DateTimeOffset.UtcNow)
    {
        public readonly TaskCompletionSource Armed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime >= due)
            {
                Armed.TrySetResult();
            }

            return timer;
        }
    }

    /// <summary>Passes the first request to the server and then answers it 503 itself, as if the answer was lost.</summary>
    private sealed class LoseFirstAnswer : DelegatingHandler
    {
        public int Requests;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            return Interlocked.Increment(ref Requests) == 1 ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) : response;
        }
    }

    private sealed class TooManyRequestsFirst(TimeSpan retryAfter) : DelegatingHandler
    {
        public int Requests;
        public readonly TaskCompletionSource Refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref Requests) > 1)
            {
                return base.SendAsync(request, cancellationToken);
            }

            var tooMany = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
            tooMany.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(retryAfter);
            Refused.TrySetResult();
            return Task.FromResult(tooMany);
        }
    }

    /// <summary>Sums one of the client's counters while it lives.</summary>
    private sealed class CounterReader : IDisposable
    {
        private readonly MeterListener listener = new();
        private long total;

        public CounterReader(string instrument)
        {
            listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == "Opsmeter.Client" && i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref total, value));
            listener.Start();
        }

        public long Total => Interlocked.Read(ref total);

        public void Dispose() => listener.Dispose();
    }
}
