using System.Collections.Concurrent;
using Npgsql;
using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>
/// Remembers when each key was last used and writes it once a minute in one statement: the ingest path
/// only stores a timestamp in memory, never waits for a write per request.
/// </summary>
internal sealed class ApiKeyUsage(NpgsqlDataSource db, TimeProvider clock, ILogger<ApiKeyUsage> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private ConcurrentDictionary<(Guid WorkspaceId, Guid KeyId), DateTimeOffset> pending = new();

    public void Record(Guid workspaceId, Guid keyId) => pending[(workspaceId, keyId)] = clock.GetUtcNow();

    /// <summary>Writes what was recorded since the last flush; a key's time only ever moves forward.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        var batch = Interlocked.Exchange(ref pending, new());
        if (batch.IsEmpty)
        {
            return;
        }

        await using var command = db.CreateCommand("""
            UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, u.at)
            FROM unnest(@workspaces, @ids, @ats) AS u(workspace_id, id, at)
            WHERE k.workspace_id = u.workspace_id AND k.id = u.id
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("workspaces", [.. batch.Keys.Select(k => k.WorkspaceId)]));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", [.. batch.Keys.Select(k => k.KeyId)]));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("ats", [.. batch.Values]));
        await command.ExecuteNonQueryAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.TickAsync(stoppingToken))
        {
            try
            {
                await FlushAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Last-use times are a convenience: a failed write is retried at the next tick with newer times.
                logger.LogWarning("Could not record API key use: {Error}", e.Message);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }
}
