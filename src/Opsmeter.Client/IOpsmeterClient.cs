namespace Opsmeter.Client;

/// <summary>Sends usage to Opsmeter in the background. Register with <c>services.AddOpsmeter(…)</c>.</summary>
public interface IOpsmeterClient
{
    /// <summary>Queues the event and returns at once; never throws and never waits for the network.</summary>
    void Track(OpsmeterEvent usage);

    /// <summary>Sends everything queued now and waits until each event was accepted or given up on.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The policy for the next call (<c>GET /v1/policy</c>), answered from a cache for the decision's <c>ttlSeconds</c>.
    /// Throws <see cref="HttpRequestException"/> or <see cref="TaskCanceledException"/> when Opsmeter cannot answer within the timeout.
    /// </summary>
    Task<PolicyDecision> GetPolicyAsync(PolicyQuery query, CancellationToken cancellationToken = default);
}
