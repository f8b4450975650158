namespace Opsmeter.Client;

/// <summary>What to ask the policy about; null fields come from the ambient <see cref="OpsmeterContext"/>.</summary>
public sealed record PolicyQuery(string? EndpointTag = null, string? PromptVersion = null, string? TenantId = null, string? UserId = null,
    string? Model = null, string? Provider = null);

/// <summary>
/// Opsmeter's <c>GET /v1/policy</c> answer: <c>allow</c>, <c>warn</c>, <c>clamp</c>, <c>fallback</c>, <c>queue</c> or
/// <c>block</c>, and why. <see cref="RetryAfterSeconds"/> comes with <c>queue</c>: when the exceeded budgets start a new period.
/// </summary>
public sealed record PolicyDecision(string Action, IReadOnlyList<string> Reasons, int? MaxOutputTokens, string? FallbackModel,
    int? RetryAfterSeconds, string Mode, int TtlSeconds);
