using System.Collections.Frozen;

namespace Opsmeter.Web.Features.Events;

/// <summary>
/// One attribution dimension of an event: everything SQL, validation, budgets, the policy, metrics, exports and the
/// dashboard need to know about it. <see cref="Dimensions"/> lists them all; adding a dimension is a new entry there
/// (and its column in a migration), nothing else.
/// </summary>
/// <param name="Name">The wire name: query parameters, groupBy values, budget scopes, rollup rows.</param>
/// <param name="Column">The llm_requests column.</param>
/// <param name="Property">The <see cref="LlmRequest"/> property, for EF queries.</param>
/// <param name="Title">What the dashboard calls its table ("Endpoints").</param>
/// <param name="ManyValued">
/// So many values (one per user, per tenant) that hourly rollup rows would be as many as the events: rolled up by day,
/// week and month, never by hour, and an event without a value groups as <see cref="None"/>.
/// </param>
/// <param name="Attribution">Who or what caused spend (not the model or provider): the drivers an incident reports.</param>
/// <param name="Navigation">Has its own page in the dashboard's navigation and a top list on the overview.</param>
/// <param name="Value">The value of an event about to be stored, for budgets that count it.</param>
internal sealed record Dimension(string Name, string Column, string Property, string Title, bool ManyValued, bool Attribution, bool Navigation,
    Func<LlmRequest, string?> Value)
{
    /// <summary>The group key of events without a value, in many-valued dimensions.</summary>
    public const string None = "(none)";

    /// <summary>The SQL that groups by this dimension, on a table alias (or none): many-valued ones group missing values as <see cref="None"/>.</summary>
    public string GroupExpression(string? alias = null) =>
        ManyValued ? $"coalesce({Qualified(alias)}, '{None}')" : Qualified(alias);

    private string Qualified(string? alias) => alias is null ? Column : $"{alias}.{Column}";
}

internal static class Dimensions
{
    public static readonly Dimension EndpointTag = new("endpointTag", "endpoint_tag", nameof(LlmRequest.EndpointTag), "Endpoints",
        ManyValued: false, Attribution: true, Navigation: true, r => r.EndpointTag);

    public static readonly Dimension PromptVersion = new("promptVersion", "prompt_version", nameof(LlmRequest.PromptVersion), "Prompt versions",
        ManyValued: false, Attribution: true, Navigation: true, r => r.PromptVersion);

    public static readonly Dimension Model = new("model", "model", nameof(LlmRequest.Model), "Models",
        ManyValued: false, Attribution: false, Navigation: true, r => r.Model);

    public static readonly Dimension Provider = new("provider", "provider", nameof(LlmRequest.Provider), "Providers",
        ManyValued: false, Attribution: false, Navigation: false, r => r.Provider);

    public static readonly Dimension UserId = new("userId", "user_id", nameof(LlmRequest.UserId), "Users",
        ManyValued: true, Attribution: true, Navigation: true, r => r.UserId);

    public static readonly Dimension TenantId = new("tenantId", "tenant_id", nameof(LlmRequest.TenantId), "Tenants",
        ManyValued: true, Attribution: true, Navigation: true, r => r.TenantId);

    /// <summary>Every dimension, in the order the dashboard shows them.</summary>
    public static readonly IReadOnlyList<Dimension> All = [EndpointTag, PromptVersion, Model, UserId, TenantId, Provider];

    public static readonly FrozenDictionary<string, Dimension> ByName = All.ToFrozenDictionary(d => d.Name);

    /// <summary>Rolled up by hour too (few values each).</summary>
    public static IEnumerable<Dimension> FewValued => All.Where(d => !d.ManyValued);

    public static IEnumerable<Dimension> ManyValued => All.Where(d => d.ManyValued);

    public static IEnumerable<string> Names => All.Select(d => d.Name);
}
