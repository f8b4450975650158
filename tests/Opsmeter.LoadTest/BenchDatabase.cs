using Npgsql;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.LoadTest;

/// <summary>
/// The PostgreSQL a run uses: <c>--connection</c> if given, else a new local cluster in a temporary
/// folder with fsync on (durability is what is measured), removed afterwards. Each run gets a new database.
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

    public static async Task<BenchDatabase> CreateAsync(string? server, bool durable)
    {
        LocalPostgres? cluster = null;
        string? folder = null;
        if (server is null)
        {
            folder = Path.Combine(Path.GetTempPath(), $"opsmeter-bench-{Guid.NewGuid():N}");
            cluster = LocalPostgres.Start(folder, throwAway: !durable);
            server = cluster.ConnectionString();
        }

        var name = $"opsmeter_bench_{Guid.NewGuid():N}"[..30];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new BenchDatabase(new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 200 }.ConnectionString, cluster, folder, durable);
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
