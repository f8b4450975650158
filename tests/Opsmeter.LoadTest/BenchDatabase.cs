using System.Diagnostics;
using Npgsql;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.LoadTest;

/// <summary>
/// The PostgreSQL a run uses: <c>--connection</c> if given, else a new local cluster in a temporary
/// folder with fsync on (durability is what is measured), removed afterwards. Each run gets a new database,
/// except with <c>keep</c>: then the cluster lives in that folder and keeps one database between runs, so a large
/// data set is generated once.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly LocalPostgres? cluster;
    private readonly string? folder;
    private readonly bool durable;

    private BenchDatabase(string connectionString, LocalPostgres? cluster, string? folder, bool durable)
    {
        this.durable = durable;
        ConnectionString = connectionString;
        this.cluster = cluster;
        this.folder = folder;
    }

    public string ConnectionString { get; }

    public string Description => cluster is null ? "given server" : $"local cluster, fsync {(durable ? "on" : "off")}, same machine";

    public static async Task<BenchDatabase> CreateAsync(string? server, bool durable, string? keep = null)
    {
        LocalPostgres? cluster = null;
        string? folder = null;
        if (server is null)
        {
            folder = keep is null ? Path.Combine(Path.GetTempPath(), $"opsmeter-bench-{Guid.NewGuid():N}") : Path.GetFullPath(keep);
            cluster = LocalPostgres.Start(folder, throwAway: !durable);
            server = cluster.ConnectionString();
        }

        var name = keep is null ? $"opsmeter_bench_{Guid.NewGuid():N}"[..30] : "opsmeter_bench_kept";
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", name);
            if ((long)(await exists.ExecuteScalarAsync())! == 0)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
        }

        return new BenchDatabase(new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 200 }.ConnectionString, cluster,
            keep is null ? folder : null, durable);
    }

    /// <summary>Waits until a server on this database has folded every stored event into the usage rollups.</summary>
    public async Task WaitFoldedAsync(TimeSpan within)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var unfolded = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM llm_requests WHERE ingest_xid >= (SELECT processed_below_xid FROM rollup_state WHERE name = 'usage'))",
            connection);
        var waited = Stopwatch.StartNew();
        while ((bool)(await unfolded.ExecuteScalarAsync())!)
        {
            if (waited.Elapsed > within)
            {
                throw new TimeoutException($"The rollups did not take the stored events in within {within.TotalMinutes:0} minutes.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        cluster?.Stop();
        if (folder is not null)
        {
            await Task.Run(() => Directory.Delete(folder, recursive: true));
        }
    }
}
