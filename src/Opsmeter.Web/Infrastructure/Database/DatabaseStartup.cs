using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.Web.Infrastructure.Database;

internal static class DatabaseStartup
{
    /// <summary>The session advisory lock that start-up preparation holds ("opsmeter" in ASCII).</summary>
    private const long PreparationLock = 0x6F70736D65746572;

    /// <summary>
    /// Before serving: applies migrations (unless <c>Database:MigrateOnStartup=false</c>, for operators who
    /// run <c>migrate</c> separately), appends the shipped price catalog, creates the bootstrap workspace
    /// and key, and loads the prices into memory.
    /// Nodes that start at once against the same database take turns (a session advisory lock held on a connection of its
    /// own until the end): the first migrates, seeds and bootstraps; the others find it done. Without it two nodes both
    /// saw no bootstrap workspace and both created one.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this IServiceProvider services, bool migrate, CancellationToken ct = default)
    {
        await using var lockConnection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({PreparationLock})", lockConnection))
        {
            await take.ExecuteNonQueryAsync(ct);
        }

        // Closing the connection (returned to the pool) would not end the session: unlock explicitly, whatever happens.
        try
        {
            await PrepareAsync(services, migrate, ct);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({PreparationLock})", lockConnection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static async Task PrepareAsync(IServiceProvider services, bool migrate, CancellationToken ct)
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
