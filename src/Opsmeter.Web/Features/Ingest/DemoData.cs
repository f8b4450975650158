using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Ingest;

public sealed record DemoDataResponse(int Created);

public sealed record DeletedDataResponse(string DataMode, int Deleted);

/// <summary>
/// Demo data (<c>dataMode=demo</c>): a week of plausible traffic across features, prompt versions, models,
/// users and tenants, priced and stored like real events through the same writer; and the removal of
/// demo or test data, which never touches real events.
/// </summary>
internal static class DemoData
{
    private static readonly (string Provider, string Model, int Weight)[] Models =
        [("openai", "gpt-4o-mini", 5), ("openai", "gpt-4.1", 2), ("anthropic", "claude-sonnet-4-5-20250929", 2), ("google", "gemini-2.5-flash", 2), ("openai", "internal-finetune-v2", 1)];

    private static readonly string[] Endpoints = ["support.reply", "search.summarize", "chat.answer", "mail.draft", "docs.qa"];

    /// <summary><c>POST /v1/ingest/demo</c>: 402 like any ingest once the monthly request quota is used up.</summary>
    public static async Task<Results<Ok<DemoDataResponse>, ProblemHttpResult>> HandleCreateAsync(ClaimsPrincipal user,
        PriceCatalog catalog, IngestWriter writer, RawRetention retention, QuotaMeter quota, TimeProvider clock)
    {
        var workspaceId = user.WorkspaceId();
        return await CreateAsync(workspaceId, catalog, writer, retention, quota, clock) is { } created
            ? TypedResults.Ok(created)
            : PlanLimitReached.Problem((await quota.UsageAsync(workspaceId))!);
    }

    /// <summary>
    /// A week of demo traffic, or as much of it as the workspace's raw retention keeps; null, and nothing stored, when the
    /// workspace's monthly request quota is used up (demo events count against it like any other).
    /// </summary>
    public static async Task<DemoDataResponse?> CreateAsync(Guid workspaceId, PriceCatalog catalog, IngestWriter writer, RawRetention retention,
        QuotaMeter quota, TimeProvider clock, int count = 700)
    {
        if (await quota.UsageAsync(workspaceId) is { IsReached: true })
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var (oldest, _) = await retention.OldestAcceptedAsync(workspaceId);
        var spanMinutes = (int)Math.Max(60, Math.Min(7 * 24 * 60, (now - oldest).TotalMinutes - 60));
        var random = new Random(workspaceId.GetHashCode());
        var weighted = Models.SelectMany(m => Enumerable.Repeat(m, m.Weight)).ToArray();
        var rows = new List<LlmRequest>(count);
        for (var i = 0; i < count; i++)
        {
            var (provider, model, _) = weighted[random.Next(weighted.Length)];
            var endpoint = Endpoints[(int)Math.Min(Endpoints.Length - 1, Math.Floor(random.NextDouble() * random.NextDouble() * Endpoints.Length * 1.6))];
            var input = random.Next(300, 12_000);
            var request = new IngestEventRequest
            {
                ExternalRequestId = $"demo-{Guid.CreateVersion7(now):N}-{i}",
                Provider = provider,
                Model = model,
                EndpointTag = endpoint,
                PromptVersion = $"{endpoint.Split('.')[0]}_v{random.Next(1, 4)}",
                UserId = $"user-{random.Next(1, 60):000}",
                TenantId = $"tenant-{(char)('a' + random.Next(0, 9))}",
                InputTokens = input,
                CachedInputTokens = random.Next(4) == 0 ? input / 2 : 0,
                OutputTokens = random.Next(40, 1_200),
                LatencyMs = random.Next(250, 6_000),
                Status = random.Next(30) == 0 ? "error" : "success",
                ErrorCode = null,
                DataMode = "demo",
                OccurredAt = now - TimeSpan.FromMinutes(random.Next(1, spanMinutes)),
            };
            rows.Add(PriceEvent.From(request, workspaceId, now, catalog).Row);
        }

        var outcomes = await writer.SubmitAsync(rows);
        var created = outcomes.Count(o => !o.Duplicate);
        quota.Add(workspaceId, created);
        return new DemoDataResponse(created);
    }

    /// <summary>The workspace-wide scope; the only one Opsmeter can honour.</summary>
    public const string WorkspaceScope = "workspace";

    /// <summary>
    /// <c>DELETE /v1/ingest/demo-data</c> and <c>/test-data</c>. Opsmeter.io clients may ask for <c>?scope=mine</c> (only the
    /// rows the calling key created). Opsmeter does not record which key sent an event, so it cannot tell those rows
    /// apart: it refuses that scope, any other it does not know, and any other parameter (a filter it would not apply),
    /// rather than delete more than was asked.
    /// </summary>
    public static async Task<Results<Ok<DeletedDataResponse>, ProblemHttpResult>> HandleDeleteAsync(OpsmeterDbContext db, AuditLog audit,
        Guid workspaceId, string dataMode, IQueryCollection query, CancellationToken ct)
    {
        if (query.Keys.Any(k => k != "scope"))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                title: $"Only all of the workspace's {dataMode} events can be deleted; nothing was deleted.",
                detail: $"This request takes no filters (it would delete every {dataMode} event of the workspace, not only those the filter names). " +
                    $"Send it without parameters to delete all of this workspace's {dataMode} events.");
        }

        var scope = query["scope"];
        if (scope.Count > 0 && (scope.Count > 1 || !string.Equals(scope[0], WorkspaceScope, StringComparison.OrdinalIgnoreCase)))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                title: $"Only all of the workspace's {dataMode} events can be deleted; nothing was deleted.",
                detail: $"Opsmeter does not record which API key sent an event, so it cannot delete only the {dataMode} events one key created. " +
                    $"Leave scope out (or send scope={WorkspaceScope}) to delete all of this workspace's {dataMode} events.");
        }

        return TypedResults.Ok(await DeleteAsync(db, audit, workspaceId, dataMode, ct));
    }

    /// <summary>Deletes the workspace's events of <paramref name="dataMode"/> and their rollups, with an audit entry in the same transaction.</summary>
    public static async Task<DeletedDataResponse> DeleteAsync(OpsmeterDbContext db, AuditLog audit, Guid workspaceId, string dataMode,
        CancellationToken ct)
    {
        if (dataMode is not ("demo" or "test"))
        {
            throw new ArgumentOutOfRangeException(nameof(dataMode), "Only demo and test data can be deleted this way.");
        }

        // Rollups of that data mode go with the events: they hold nothing else, so totals stay equal to the events.
        // Holding the rollup worker's lock keeps a pass from folding rows this transaction deletes.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM rollup_state WHERE name = 'usage' FOR UPDATE", ct);
        // Their idempotency keys go too, so that the same test events can be sent again.
        await db.Database.ExecuteSqlAsync($"""
            DELETE FROM ingest_keys k USING llm_requests r
            WHERE r.workspace_id = {workspaceId} AND r.data_mode = {dataMode}
              AND k.workspace_id = r.workspace_id AND k.external_request_id = r.external_request_id
            """, ct);
        var deleted = await db.LlmRequests.Where(r => r.WorkspaceId == workspaceId && r.DataMode == dataMode).ExecuteDeleteAsync(ct);
        await db.Database.ExecuteSqlAsync($"DELETE FROM usage_rollups WHERE workspace_id = {workspaceId} AND data_mode = {dataMode}", ct);
        await db.Database.ExecuteSqlRawAsync(RollupGenerations.BumpWorkspace, [new NpgsqlParameter("workspace", workspaceId)], ct);
        audit.Add(workspaceId, AuditActions.DataDeleted, $"{dataMode} data", after: $"{deleted} {dataMode} events removed");
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new DeletedDataResponse(dataMode, deleted);
    }
}
