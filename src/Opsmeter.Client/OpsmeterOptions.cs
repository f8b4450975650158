namespace Opsmeter.Client;

/// <summary>Where and how the client sends usage. Bound from the configuration section <c>Opsmeter</c>, then the <c>AddOpsmeter</c> callback.</summary>
public sealed class OpsmeterOptions
{
    public const string Section = "Opsmeter";

    /// <summary>The Opsmeter server, e.g. <c>http://localhost:5000</c>.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>A key with the <c>ingest</c> scope.</summary>
    public string? ApiKey { get; set; }

    /// <summary><c>prod</c>, <c>staging</c> or <c>dev</c>, for events that do not say.</summary>
    public string Environment { get; set; } = "prod";

    /// <summary><c>real</c>, <c>test</c> or <c>demo</c>, for events that do not say.</summary>
    public string DataMode { get; set; } = "real";

    /// <summary>How long one request to Opsmeter may take. Sending happens in the background: the app never waits for it.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(600);

    /// <summary>Events waiting to be sent; when full, the oldest is dropped (and counted).</summary>
    public int MaxQueuedEvents { get; set; } = 10_000;

    /// <summary>Events per request to <c>/v1/ingest/batch</c> (the server takes up to 1,000).</summary>
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>How long an event may wait for companions before its batch goes out.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Tries per batch before its events count as failed; each retry keeps every event's <c>externalRequestId</c>.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The first retry's delay; it doubles with each try (a 429's <c>Retry-After</c> wins when longer).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long sending pauses after a 402 (the workspace's plan quota is used up); events keep queueing meanwhile.</summary>
    public TimeSpan QuotaPause { get; set; } = TimeSpan.FromMinutes(1);
}
