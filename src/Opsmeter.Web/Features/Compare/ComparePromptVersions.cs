using Npgsql;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Features.Compare;

/// <summary>One prompt version's figures on one endpoint; <c>TooFewRequests</c> says a difference would not be trustworthy.</summary>
public sealed record PromptVersionFigures(string PromptVersion, long Requests, decimal CostPerRequestUsd, decimal InputTokensPerRequest,
    decimal OutputTokensPerRequest, double? P95LatencyMs, decimal ErrorRate, bool TooFewRequests);

public sealed record PromptVersionComparison(string EndpointTag, DateTimeOffset From, DateTimeOffset To, PromptVersionFigures A,
    PromptVersionFigures B, int MinimumRequests);

/// <summary>Prompt version A against B on the same endpoint, side by side, from the raw events (exact p95).</summary>
internal static class ComparePromptVersions
{
    /// <summary>Below this many requests on either side, the comparison is flagged: a few calls say little about a prompt.</summary>
    public const int MinimumRequests = 30;

    public static async Task<PromptVersionComparison> CompareAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string endpointTag,
        string a, string b, CancellationToken ct)
    {
        async Task<PromptVersionFigures> Side(string version)
        {
            var dimensions = new Dictionary<string, string>(filter.Dimensions ?? new Dictionary<string, string>())
            {
                ["endpointTag"] = endpointTag,
                ["promptVersion"] = version,
            };
            var row = await UsageQueries.TotalsAsync(db, workspaceId, filter with { Dimensions = dimensions }, ct);
            decimal PerRequest(long value) => row.Requests == 0 ? 0 : Math.Round((decimal)value / row.Requests, 1);
            return new PromptVersionFigures(version, row.Requests, row.CostPerRequestUsd, PerRequest(row.InputTokens), PerRequest(row.OutputTokens),
                row.P95LatencyMs, row.Requests == 0 ? 0 : Money.Normalize(Math.Round((decimal)row.Errors / row.Requests, 4)), row.Requests < MinimumRequests);
        }

        return new PromptVersionComparison(endpointTag, filter.From, filter.To, await Side(a), await Side(b), MinimumRequests);
    }
}
