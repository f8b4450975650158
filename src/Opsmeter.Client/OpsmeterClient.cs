using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Opsmeter.Client;

/// <summary>
/// The background sender behind <see cref="IOpsmeterClient"/>. <see cref="Track"/> only completes the event and writes it
/// into a bounded channel (the oldest is dropped when full). One loop takes up to <see cref="OpsmeterOptions.MaxBatchSize"/>
/// events at a time and posts them to <c>/v1/ingest/batch</c>: a failure is retried with growing delays and the same
/// <c>externalRequestId</c>s (the server answers a repeat as a duplicate), a 429 waits its <c>Retry-After</c>, a 402 pauses
/// sending for <see cref="OpsmeterOptions.QuotaPause"/>. Disposing (the host stopping) sends what is queued first.
/// </summary>
internal sealed class OpsmeterClient : IOpsmeterClient, IAsyncDisposable, IDisposable
{
    public const string HttpClientName = "Opsmeter";
    public static readonly Meter Meter = new("Opsmeter.Client");
    private static readonly Counter<long> Queued = Meter.CreateCounter<long>("opsmeter.client.events.queued", "{event}", "Events tracked and queued");
    private static readonly Counter<long> Sent = Meter.CreateCounter<long>("opsmeter.client.events.sent", "{event}", "Events the server stored (or already had)");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("opsmeter.client.events.failed", "{event}", "Events refused by the server or given up on after retries");
    private static readonly Counter<long> Dropped = Meter.CreateCounter<long>("opsmeter.client.events.dropped", "{event}", "Events dropped because the queue was full");

    /// <summary>
    /// 96 random bits drawn once per process, then a counter: unique ids without a random draw per event (<see cref="Guid.NewGuid"/>
    /// is a system call that costs about 1.7 µs on a virtual machine, more than all the rest of <see cref="Track"/>).
    /// </summary>
    private static readonly string IdPrefix = "om_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)).ToLowerInvariant() + "_";
    private static long idSequence;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly Channel<OpsmeterEvent> queue;
    private readonly IHttpClientFactory http;
    private readonly OpsmeterOptions options;
    private readonly TimeProvider clock;
    private readonly ILogger<OpsmeterClient> logger;
    private readonly PolicyCache policies;
    private readonly CancellationTokenSource stopping = new();
    private readonly object gate = new();
    private TaskCompletionSource idle = Completed();
    private long pending;
    private Task? loop;
    private int disposed;
    private TaskCompletionSource sendNow = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OpsmeterClient(IHttpClientFactory http, IOptions<OpsmeterOptions> options, TimeProvider clock, ILogger<OpsmeterClient> logger)
        : this(http, options, clock, logger, start: true)
    {
    }

    /// <summary>With <paramref name="start"/> false nothing is sent until <see cref="Start"/> (tests fill the queue first).</summary>
    internal OpsmeterClient(IHttpClientFactory http, IOptions<OpsmeterOptions> options, TimeProvider clock, ILogger<OpsmeterClient> logger, bool start)
    {
        (this.http, this.options, this.clock, this.logger) = (http, options.Value, clock, logger);
        policies = new PolicyCache(http, clock);
        queue = Channel.CreateBounded<OpsmeterEvent>(
            new BoundedChannelOptions(Math.Max(1, this.options.MaxQueuedEvents)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => { Dropped.Add(1); Done(1); });
        if (start)
        {
            Start();
        }
    }

    internal void Start() => loop ??= Task.Run(RunAsync);

    public void Track(OpsmeterEvent usage)
    {
        try
        {
            var ambient = OpsmeterContext.Current;
            var complete = usage with
            {
                ExternalRequestId = usage.ExternalRequestId ?? NewRequestId(),
                EndpointTag = usage.EndpointTag ?? ambient?.EndpointTag,
                PromptVersion = usage.PromptVersion ?? ambient?.PromptVersion,
                UserId = usage.UserId ?? ambient?.UserId,
                TenantId = usage.TenantId ?? ambient?.TenantId,
                OccurredAt = usage.OccurredAt ?? clock.GetUtcNow(),
                DataMode = usage.DataMode ?? options.DataMode,
                Environment = usage.Environment ?? options.Environment,
            };
            lock (gate)
            {
                if (pending++ == 0)
                {
                    idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            if (queue.Writer.TryWrite(complete))
            {
                Queued.Add(1);
            }
            else
            {
                Done(1); // stopped: nothing will send it
                Dropped.Add(1);
            }
        }
        catch (Exception e)
        {
            // Never into the caller's LLM call path.
            logger.LogDebug(e, "Could not queue an Opsmeter event");
        }
    }

    internal static string NewRequestId() =>
        IdPrefix + Interlocked.Increment(ref idSequence).ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    public Task<PolicyDecision> GetPolicyAsync(PolicyQuery query, CancellationToken cancellationToken = default) =>
        policies.GetAsync(query, cancellationToken);

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Task waiting;
        lock (gate)
        {
            waiting = idle.Task;
            sendNow.TrySetResult();
        }

        await waiting.WaitAsync(cancellationToken);
    }

    private async Task RunAsync()
    {
        var batch = new List<OpsmeterEvent>(options.MaxBatchSize);
        while (await WaitForEventsAsync())
        {
            await WaitForCompanionsAsync();
            while (batch.Count < options.MaxBatchSize && queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            if (batch.Count > 0)
            {
                await SendAsync(batch);
                Done(batch.Count);
                batch.Clear();
            }
        }
    }

    private async Task<bool> WaitForEventsAsync()
    {
        try
        {
            return await queue.Reader.WaitToReadAsync(stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Lets a batch fill for up to the flush interval, unless it is full already or someone flushes.</summary>
    private async Task WaitForCompanionsAsync()
    {
        Task flush;
        lock (gate)
        {
            flush = sendNow.Task;
        }

        if (queue.Reader.Count < options.MaxBatchSize && !flush.IsCompleted && !queue.Reader.Completion.IsCompleted)
        {
            await Task.WhenAny(flush, Task.Delay(options.FlushInterval, clock));
        }

        lock (gate)
        {
            if (sendNow.Task.IsCompleted && queue.Reader.Count <= options.MaxBatchSize)
            {
                sendNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    private async Task SendAsync(List<OpsmeterEvent> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            var wait = options.RetryDelay * Math.Pow(2, attempt - 1);
            try
            {
                using var client = http.CreateClient(HttpClientName);
                using var response = await client.PostAsJsonAsync("/v1/ingest/batch", new { events = batch }, Json);
                if (response.IsSuccessStatusCode)
                {
                    var rejected = response.StatusCode == HttpStatusCode.MultiStatus
                        ? (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("rejected").GetInt32()
                        : 0;
                    Sent.Add(batch.Count - rejected);
                    Failed.Add(rejected);
                    return;
                }

                if (response.StatusCode == HttpStatusCode.PaymentRequired)
                {
                    wait = options.QuotaPause; // the plan's quota is used up: pause, keep the events
                    attempt--;
                }
                else if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.RequestTimeout
                         || (int)response.StatusCode >= 500)
                {
                    if (response.Headers.RetryAfter?.Delta is { } retryAfter && retryAfter > wait)
                    {
                        wait = retryAfter;
                    }
                }
                else
                {
                    // 400, 401, 403, 413: sending the same again cannot help.
                    logger.LogWarning("Opsmeter refused {Events} events ({Status}); they are dropped", batch.Count, (int)response.StatusCode);
                    Failed.Add(batch.Count);
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                logger.LogDebug(e, "Sending {Events} events to Opsmeter failed (try {Attempt})", batch.Count, attempt);
            }

            if (attempt >= options.MaxAttempts || stopping.IsCancellationRequested)
            {
                logger.LogWarning("Gave up sending {Events} events to Opsmeter after {Attempts} tries", batch.Count, attempt);
                Failed.Add(batch.Count);
                return;
            }

            await Task.Delay(wait, clock);
        }
    }

    private void Done(int events)
    {
        lock (gate)
        {
            pending -= events;
            if (pending <= 0)
            {
                pending = 0;
                idle.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    /// <summary>Sends what is queued (bounded by a few timeouts), then stops the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        // Once: the container may hold this instance under two service types.
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        queue.Writer.TryComplete();
        try
        {
            using var bound = new CancellationTokenSource(options.Timeout * 4 + options.FlushInterval);
            await FlushAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Stopped with Opsmeter events unsent");
        }

        await stopping.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }

        stopping.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
