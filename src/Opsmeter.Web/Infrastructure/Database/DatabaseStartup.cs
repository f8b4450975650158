using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.Web.Infrastructure.Database;

internal static class DatabaseStartup
{
    /// <summary>
    /// Before serving: applies migrations (unless <c>Database:MigrateOnStartup=false</c>, for operators who
    /// run <c>migrate</c> separately), appends the shipped price catalog, creates the bootstrap workspace
    /// and key, and loads the prices into memory.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this IServiceProvider services, bool migrate, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var clock = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        if (migrate)
        {
            // Creating the history table first spares a fresh database EF's logged "relation does not exist" error.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);
            await db.Database.MigrateAsync(ct);
        }

        await PriceCatalogSeed.ApplyAsync(db, clock.GetUtcNow(), ct);
        await scope.ServiceProvider.GetRequiredService<WorkspaceBootstrap>().RunAsync(ct);
        // Through the refresh loop's own load, so that it knows what is in memory and reloads only on a change.
        await scope.ServiceProvider.GetRequiredService<PriceCatalogRefresh>().ReloadAsync(ct);
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting a database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<OpsmeterDbContext>
{
    public OpsmeterDbContext CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<OpsmeterDbContext>()
        .UseNpgsql("Host=localhost;Database=opsmeter").UseSnakeCaseNamingConvention().Options);
}
