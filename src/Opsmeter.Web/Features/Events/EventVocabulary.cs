namespace Opsmeter.Web.Features.Events;

/// <summary>What an event is for: real traffic, tests, or demo data (docs/api.md "Ingest one call"). Queries default to real.</summary>
internal static class DataModes
{
    public const string Real = "real";
    public const string Test = "test";
    public const string Demo = "demo";

    public static readonly string[] All = [Real, Test, Demo];
}

/// <summary>Where an event came from; an event without one is from production.</summary>
internal static class EventEnvironments
{
    public const string Prod = "prod";

    public static readonly string[] All = [Prod, "staging", "dev"];
}

/// <summary>Whether the LLM call succeeded.</summary>
internal static class EventStatuses
{
    public const string Success = "success";
    public const string Error = "error";

    public static readonly string[] All = [Success, Error];
}

/// <summary>How an event's cost was made (docs/api.md "Ingest one call").</summary>
internal static class CostStatuses
{
    public const string Priced = "priced";
    public const string Unpriced = "unpriced";
    public const string ClientReported = "client_reported";
}

/// <summary>
/// Where an event's cost came from (docs/api.md "Pricing catalog"): a global catalog row, the workspace's own row, the
/// client's <c>costUsd</c> (no price found), or the provider's or gateway's billed figure. Null on an unpriced event.
/// </summary>
internal static class CostSources
{
    public const string Catalog = "catalog";
    public const string Override = "override";
    public const string ClientReported = "client_reported";
    public const string ProviderReported = "provider_reported";
}

/// <summary>Who computed an event's <c>costUsd</c>: the client itself, or the provider or gateway that billed the call.</summary>
internal static class CostReporters
{
    public const string Client = "client";
    public const string Provider = "provider";

    public static readonly string[] All = [Client, Provider];
}
