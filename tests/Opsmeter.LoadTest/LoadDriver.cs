using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Opsmeter.LoadTest;

/// <summary>Result of one load phase. Latencies are per HTTP request.</summary>
internal sealed record PhaseResult(string Name, long Requests, long Events, long Failures, TimeSpan Elapsed,
    double P50Ms, double P95Ms, double P99Ms, long? PeakServerBytes)
{
    public double EventsPerSecond => Events / Elapsed.TotalSeconds;

    /// <summary>Every request's latency in ms, sorted (open-loop phases only), so phases can be pooled (<see cref="Pooled"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double[]? Latencies { get; init; }

    /// <summary>The <paramref name="p"/> percentile of all the phases' requests together.</summary>
    public static double Pooled(IEnumerable<PhaseResult> phases, double p) =>
        Percentile(phases.SelectMany(r => r.Latencies ?? throw new InvalidOperationException($"{r.Name} kept no latencies")).Order().ToArray(), p);

    /// <summary>The <paramref name="p"/> percentile (0–1) of sorted latencies; 0 when there are none.</summary>
    public static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}

/// <summary>
/// Closed-loop HTTP load: <c>concurrency</c> workers each send a request, wait for its answer and send the
/// next, for a fixed time. Every request carries new externalRequestIds, so the server does real inserts.
/// </summary>
internal sealed class LoadDriver(Uri baseAddress, string? apiKey, int concurrency)
{
    public Task<PhaseResult> RunAsync(string name, string path, int eventsPerRequest, TimeSpan duration, Func<long> serverBytes)
    {
        var runId = $"{name}-{Guid.NewGuid():N}"[..24];
        return RunCoreAsync(name, eventsPerRequest, duration, serverBytes, (client, first) =>
        {
            var body = eventsPerRequest == 1 ? Payloads.Event(runId, first) : Payloads.Batch(runId, first, eventsPerRequest);
            var content = new StringContent(body, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return client.PostAsync(path, content, CancellationToken.None);
        });
    }

    /// <summary>
    /// Open-loop single events: one request every 1/<paramref name="perSecond"/> s whether or not the earlier ones were
    /// answered, as an app with its own traffic would send. Each latency counts from the moment the request was due, so a
    /// request the generator sent late (a stalled timer, a busy core) counts its lateness too.
    /// </summary>
    public async Task<PhaseResult> RunAtRateAsync(string name, int perSecond, TimeSpan duration)
    {
        var runId = $"{name}-{Guid.NewGuid():N}"[..24];
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        var total = (long)(perSecond * duration.TotalSeconds);
        var latencies = new double[total];
        long failures = 0;
        var started = Stopwatch.GetTimestamp();

        async Task Send(long n, long due)
        {
            var content = new StringContent(Payloads.Event(runId, n), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            try
            {
                using var response = await client.PostAsync("/v1/ingest", content, CancellationToken.None);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failures);
            }

            latencies[n] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
        }

        var sends = new List<Task>((int)total);
        for (long n = 0; n < total; n++)
        {
            var due = started + (long)(n * (double)Stopwatch.Frequency / perSecond);
            if (Stopwatch.GetElapsedTime(started, due) - Stopwatch.GetElapsedTime(started) is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait);
            }

            sends.Add(Send(n, due));
        }

        await Task.WhenAll(sends);
        var elapsed = Stopwatch.GetElapsedTime(started);
        Array.Sort(latencies);
        return new PhaseResult(name, total, total - failures, failures, elapsed,
            PhaseResult.Percentile(latencies, 0.50), PhaseResult.Percentile(latencies, 0.95), PhaseResult.Percentile(latencies, 0.99), null)
        {
            Latencies = latencies,
        };
    }

    /// <summary>POSTs OTLP protobuf exports of <paramref name="spansPerRequest"/> GenAI spans (the events of <see cref="Payloads"/>) to the OTLP route.</summary>
    public Task<PhaseResult> RunOtlpAsync(string name, int spansPerRequest, TimeSpan duration, Func<long> serverBytes)
    {
        var runId = $"{name}-{Guid.NewGuid():N}"[..24];
        return RunCoreAsync(name, spansPerRequest, duration, serverBytes, (client, first) =>
        {
            var content = new ByteArrayContent(OtlpPayloads.Export(runId, first, spansPerRequest));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            return client.PostAsync("/v1/otlp/v1/traces", content, CancellationToken.None);
        });
    }

    /// <summary>GETs <paramref name="path"/> in a closed loop; each answer counts as one "event" (a request served).</summary>
    public Task<PhaseResult> RunGetAsync(string name, string path, TimeSpan duration, Func<long> serverBytes) =>
        RunCoreAsync(name, 1, duration, serverBytes, (client, _) => client.GetAsync(path, CancellationToken.None));

    private async Task<PhaseResult> RunCoreAsync(string name, int eventsPerRequest, TimeSpan duration, Func<long> serverBytes,
        Func<HttpClient, long, Task<HttpResponseMessage>> send)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }

        long sequence = 0, requests = 0, failures = 0, peak = 0;
        var latencies = new List<double>[concurrency];
        var stopwatch = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);

        async Task Worker(int w)
        {
            var mine = latencies[w] = new List<double>(1 << 16);
            while (!stop.IsCancellationRequested)
            {
                var first = Interlocked.Add(ref sequence, eventsPerRequest) - eventsPerRequest;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await send(client, first);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref requests);
            }
        }

        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(() => Worker(w))).ToArray();
        var progress = Task.Run(async () =>
        {
            long last = 0;
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(1000, CancellationToken.None);
                peak = Math.Max(peak, serverBytes());
                var now = Interlocked.Read(ref requests);
                Console.Error.WriteLine($"  {name,-16} {stopwatch.Elapsed.TotalSeconds,5:0}s  {(now - last) * eventsPerRequest,9:N0} events/s  " +
                                        $"failures {Interlocked.Read(ref failures)}  server {peak / 1048576.0,6:0} MB");
                last = now;
            }
        });
        await Task.WhenAll(workers);
        var elapsed = stopwatch.Elapsed;
        await progress;

        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new PhaseResult(name, requests, (requests - failures) * eventsPerRequest, failures, elapsed,
            PhaseResult.Percentile(all, 0.50), PhaseResult.Percentile(all, 0.95), PhaseResult.Percentile(all, 0.99), peak == 0 ? null : peak);
    }
}
