using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// Keeps the in-memory <see cref="PriceCatalog"/> in step with the price table: at once on the node that changed a
/// price (<see cref="ReloadAsync"/>), and on every node within <see cref="RefreshInterval"/> (a one-row query that reads
/// the table's row count and latest change; the rows are read again only when those moved).
/// </summary>
internal sealed class PriceCatalogRefresh(IServiceScopeFactory scopes, PriceCatalog catalog, TimeProvider clock, ILogger<PriceCatalogRefresh> logger)
    : BackgroundService
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);
    private (int Rows, DateTimeOffset? Added, DateTimeOffset? Retired) loaded;

    public async Task ReloadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var prices = await db.ModelPrices.AsNoTracking().ToListAsync(ct);
        catalog.Load(prices);
        loaded = (prices.Count, prices.Max(p => (DateTimeOffset?)p.CreatedAt), prices.Max(p => p.RetiredAt));
    }

    /// <summary>Whether the table differs from what was loaded last (another node added or retired a row).</summary>
    internal async Task<bool> ChangedAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var now = await db.ModelPrices.GroupBy(_ => 1)
            .Select(g => new { Rows = g.Count(), Added = g.Max(p => (DateTimeOffset?)p.CreatedAt), Retired = g.Max(p => p.RetiredAt) })
            .SingleOrDefaultAsync(ct);
        return now is null ? loaded.Rows != 0 : (now.Rows, now.Added, now.Retired) != loaded;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval, clock);
        while (await timer.TickAsync(stoppingToken))
        {
            try
            {
                if (await ChangedAsync(stoppingToken))
                {
                    await ReloadAsync(stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not refresh the price catalog; pricing with the previous one");
            }
        }
    }
}
