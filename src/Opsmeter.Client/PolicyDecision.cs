namespace Opsmeter.Client;

/// <summary>What to ask the policy about; null fields come from the ambient <see cref="OpsmeterContext"/>.</summary>
public sealed record PolicyQuery(string? EndpointTag = null, string? PromptVersion = null, string? TenantId = null, string? UserId = null,
    string? Model = null, string? Provider = null);

/// <summary>Opsmeter's <c>GET /v1/policy</c> answer: <c>allow</c>, <c>warn</c>, <c>clamp</c>, <c>fallback</c> or <c>block</c>, and why.</summary>
public sealed record PolicyDecision(string Action, IReadOnlyList<string> Reasons, int? MaxOutputTokens, string? FallbackModel, string Mode, int TtlSeconds);
