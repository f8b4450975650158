using System.Collections.Concurrent;
using System.Net.Http.Json;

namespace Opsmeter.Client;

/// <summary>
/// <c>GET /v1/policy</c> for <see cref="IOpsmeterClient.GetPolicyAsync"/>: the query's nulls come from the ambient
/// <see cref="OpsmeterContext"/>, and each distinct query's answer is kept for its <c>ttlSeconds</c> (bounded).
/// </summary>
internal sealed class PolicyCache(IHttpClientFactory http, TimeProvider clock)
{
    private const int MaxCachedPolicies = 1_000;
    private readonly ConcurrentDictionary<PolicyQuery, (PolicyDecision Decision, DateTimeOffset Until)> policies = new();

    public async Task<PolicyDecision> GetAsync(PolicyQuery query, CancellationToken cancellationToken)
    {
        var ambient = OpsmeterContext.Current;
        var full = query with
        {
            EndpointTag = query.EndpointTag ?? ambient?.EndpointTag,
            PromptVersion = query.PromptVersion ?? ambient?.PromptVersion,
            TenantId = query.TenantId ?? ambient?.TenantId,
            UserId = query.UserId ?? ambient?.UserId,
        };
        var now = clock.GetUtcNow();
        if (policies.TryGetValue(full, out var cached) && cached.Until > now)
        {
            return cached.Decision;
        }

        var parameters = new[] { ("endpointTag", full.EndpointTag), ("promptVersion", full.PromptVersion), ("tenantId", full.TenantId),
                ("userId", full.UserId), ("model", full.Model), ("provider", full.Provider) }
            .Where(p => p.Item2 is not null)
            .Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}");
        using var client = http.CreateClient(OpsmeterClient.HttpClientName);
        var decision = await client.GetFromJsonAsync<PolicyDecision>("/v1/policy?" + string.Join("&", parameters), OpsmeterClient.Json, cancellationToken)
            ?? throw new HttpRequestException("Opsmeter answered the policy with nothing.");
        if (policies.Count >= MaxCachedPolicies)
        {
            policies.Clear(); // bounded: a cache of the last few hundred distinct queries is all a policy needs
        }

        // A queue decision is worth asking again once it may have changed: at its retry time if that comes before the ttl.
        var lifetime = Math.Max(0, Math.Min(decision.TtlSeconds, decision.RetryAfterSeconds ?? int.MaxValue));
        policies[full] = (decision, now + TimeSpan.FromSeconds(lifetime));
        return decision;
    }
}
