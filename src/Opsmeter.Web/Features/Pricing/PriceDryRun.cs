using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Pricing;

public sealed record DryRunModel(string Provider, string Model, long Events, decimal CurrentCostUsd, decimal CostUsdUnderPrice);

public sealed record DryRunResponse(Guid PriceId, string Provider, string Model, DateTimeOffset EffectiveFrom, DateTimeOffset From, DateTimeOffset To,
    long Events, decimal CurrentCostUsd, decimal CostUsdUnderPrice, decimal DifferenceUsd, IReadOnlyList<DryRunModel> Models);

/// <summary>
/// <c>GET /v1/pricing/dry-run?priceId=&amp;from=&amp;to=</c>: what the workspace's events of a range that the row's model
/// name covers (its name, aliases and dated snapshots, at its provider) cost now, and would cost under that price row:
/// a report to check an invoice against, no writes. Each event keeps its own tokens, 1-hour writes and service tier.
/// </summary>
internal static class PriceDryRun
{
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);

    public static async Task<Results<Ok<DryRunResponse>, NotFound, ValidationProblem>> HandleAsync(Guid? priceId, DateTimeOffset? from, DateTimeOffset? to,
        ClaimsPrincipal user, PriceCatalog catalog, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (priceId is null)
        {
            errors["priceId"] = ["priceId is required: the id of a catalog row or of this workspace's own price."];
        }

        if (from is null || to is null || to <= from || to - from > MaxRange)
        {
            errors["to"] = [$"from and to are required instants, from before to, at most {MaxRange.TotalDays:0} days apart."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var workspaceId = user.WorkspaceId();
        if (catalog.FindById(priceId!.Value) is not { } price || (price.WorkspaceId is { } owner && owner != workspaceId))
        {
            return TypedResults.NotFound();
        }

        var (start, end) = (from!.Value.ToUniversalTime(), to!.Value.ToUniversalTime());
        var names = price.Aliases.Prepend(price.Model).Select(ModelNames.Key).ToHashSet(StringComparer.Ordinal);
        var covered = (await PairsAsync(db, workspaceId, start, end, ct))
            .Where(p => Providers.Normalize(p.Provider) == price.Provider && ModelNames.Candidates(p.Model).Any(names.Contains))
            .ToList();
        var models = new List<DryRunModel>();
        foreach (var (provider, model) in covered)
        {
            models.Add(await ReportAsync(db, workspaceId, start, end, provider, model, price, ct));
        }

        var (current, under) = (models.Sum(m => m.CurrentCostUsd), models.Sum(m => m.CostUsdUnderPrice));
        return TypedResults.Ok(new DryRunResponse(price.Id, price.Provider, price.Model, price.EffectiveFrom, start, end, models.Sum(m => m.Events),
            current, under, under - current, models));
    }

    private static async Task<List<(string Provider, string Model)>> PairsAsync(NpgsqlDataSource db, Guid workspaceId, DateTimeOffset from,
        DateTimeOffset to, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "SELECT DISTINCT provider, model FROM llm_requests WHERE workspace_id = @workspace AND occurred_at >= @from AND occurred_at < @to");
        command.Parameters.AddWithValue("workspace", workspaceId);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var pairs = new List<(string, string)>();
        while (await reader.ReadAsync(ct))
        {
            pairs.Add((reader.GetString(0), reader.GetString(1)));
        }

        return pairs;
    }

    /// <summary>Streams the events of one provider and model name: memory stays flat however many there are.</summary>
    private static async Task<DryRunModel> ReportAsync(NpgsqlDataSource db, Guid workspaceId, DateTimeOffset from, DateTimeOffset to, string provider,
        string model, ModelPrice price, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, cache_write_1h_input_tokens,
                   service_tier, cost_usd
            FROM llm_requests
            WHERE workspace_id = @workspace AND occurred_at >= @from AND occurred_at < @to AND provider = @provider AND model = @model
            """);
        command.Parameters.AddWithValue("workspace", workspaceId);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("provider", provider);
        command.Parameters.AddWithValue("model", model);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var (events, current, under) = (0L, 0m, 0m);
        while (await reader.ReadAsync(ct))
        {
            var usage = new TokenUsage(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
            var multiplier = ServiceTiers.Multiplier(price.Provider, reader.GetString(6)) ?? 1m;
            events++;
            current += reader.GetDecimal(7);
            under += CostCalculator.Calculate(price, usage, multiplier).Total;
        }

        return new DryRunModel(provider, model, events, Money.Normalize(current), Money.Normalize(under));
    }
}
