using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>What the workspace's most recent events lack, so a new integration sends what attribution needs.</summary>
internal sealed record IngestChecklist(int Sampled, int MissingPromptVersion, int MissingEndpointTag, int MissingUserId, IReadOnlyList<string> UnpricedModels)
{
    public const int SampleSize = 1000;

    /// <summary>The newest <see cref="SampleSize"/> non-demo events of the workspace.</summary>
    public static async Task<IngestChecklist> ForAsync(OpsmeterDbContext db, Guid workspaceId, CancellationToken ct)
    {
        var recent = await db.LlmRequests.AsNoTracking()
            .Where(r => r.WorkspaceId == workspaceId && r.DataMode != "demo")
            .OrderByDescending(r => r.OccurredAt).Take(SampleSize)
            .Select(r => new { r.PromptVersion, r.EndpointTag, r.UserId, r.CostStatus, r.Provider, r.Model })
            .ToListAsync(ct);
        return new IngestChecklist(
            recent.Count,
            recent.Count(r => r.PromptVersion == PriceEvent.Unknown),
            recent.Count(r => r.EndpointTag == PriceEvent.Unknown),
            recent.Count(r => r.UserId is null),
            [.. recent.Where(r => r.CostStatus == CostStatuses.Unpriced).Select(r => $"{r.Provider} / {r.Model}").Distinct().Order()]);
    }
}
