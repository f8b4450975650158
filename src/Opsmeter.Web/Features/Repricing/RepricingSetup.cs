using Hangfire;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Repricing;

internal static class RepricingSetup
{
    /// <summary>Re-pricing: a new price for a workspace queues <see cref="RepriceJob"/> for it.</summary>
    public static IHostApplicationBuilder AddRepricing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<RepriceJob>();
        builder.Services.AddScoped<IPriceChangeHandler, QueueReprice>();
        return builder;
    }

    private sealed class QueueReprice(IBackgroundJobClient jobs, OpsmeterDbContext db) : IPriceChangeHandler
    {
        public void PriceAdded(Guid workspaceId) => jobs.Enqueue<RepriceJob>(j => j.RunAsync(workspaceId, CancellationToken.None));

        public async Task GlobalPricesAddedAsync(CancellationToken ct)
        {
            // Read through the partial index of unpriced events: as many rows as there are unpriced events, no more.
            var workspaces = await db.LlmRequests.Where(r => r.CostStatus == CostStatuses.Unpriced).Select(r => r.WorkspaceId).Distinct().ToListAsync(ct);
            foreach (var workspaceId in workspaces)
            {
                PriceAdded(workspaceId);
            }
        }
    }
}
