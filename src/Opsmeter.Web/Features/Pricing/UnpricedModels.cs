using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Pricing;

public sealed record UnpricedModelResponse(string Provider, string Model, long Events, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    IReadOnlyList<string> TopEndpoints);

/// <summary>
/// <c>GET /v1/pricing/unpriced</c>: the models the workspace sent without a price in force (cost 0, <c>costStatus:
/// unpriced</c>), most events first, with the endpoints that send them most. Read through the partial index on unpriced
/// events, so the cost follows the unpriced events, not all of them; bounded to the 500 busiest names.
/// </summary>
internal static class UnpricedModels
{
    public const int MaxModels = 500;

    /// <summary>A result row; its columns are the snake_case names of these properties, as everywhere in the schema.</summary>
    internal sealed record Row(string Provider, string Model, long Events, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, string[] TopEndpoints);

    public static async Task<Ok<UnpricedModelResponse[]>> HandleAsync(ClaimsPrincipal user, OpsmeterDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await ListAsync(db, user.WorkspaceId(), ct));

    public static async Task<UnpricedModelResponse[]> ListAsync(OpsmeterDbContext db, Guid workspaceId, CancellationToken ct)
    {
        var rows = await db.Database.SqlQuery<Row>($"""
            WITH u AS (
                SELECT provider, model, endpoint_tag, count(*) AS n, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen
                FROM llm_requests
                WHERE workspace_id = {workspaceId} AND cost_status = 'unpriced'
                GROUP BY provider, model, endpoint_tag)
            SELECT provider, model, sum(n)::bigint AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
                   (array_agg(endpoint_tag ORDER BY n DESC, endpoint_tag))[1:3] AS top_endpoints
            FROM u
            GROUP BY provider, model
            ORDER BY 3 DESC, provider, model
            LIMIT {MaxModels}
            """).ToListAsync(ct);
        return [.. rows.Select(r => new UnpricedModelResponse(r.Provider, r.Model, r.Events, r.FirstSeen, r.LastSeen, r.TopEndpoints))];
    }
}
