namespace Opsmeter.Web.Features.Ingest;

/// <summary>What the database says about one event after its commit: newly stored, or already there with this cost.</summary>
internal readonly record struct IngestOutcome(bool Duplicate, decimal CostUsd, string CostStatus, Guid? PriceId);

/// <summary>Ingest cannot take or commit the request right now (queue full, shutting down, database unreachable): answer 503, acknowledge nothing.</summary>
internal sealed class IngestUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The workspace already holds its share of the ingest queue (<see cref="IngestOptions.WorkspaceShare"/>): answer 429, acknowledge
/// nothing. The queue itself still has room for the other workspaces.
/// </summary>
internal sealed class IngestShareExceededException(string message) : Exception(message);
