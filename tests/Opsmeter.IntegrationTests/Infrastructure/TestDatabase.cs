using Npgsql;
using Opsmeter.Web.Infrastructure.Database;
using Testcontainers.PostgreSql;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>
/// One PostgreSQL server for the whole test run, from (in order): a connection string in
/// <c>OPSMETER_TEST_DB</c>; Testcontainers when a Docker engine answers; otherwise a throw-away local
/// cluster started from the PostgreSQL binaries on the machine (the same code as the app's embedded
/// default). Each test host gets its own database on that server.
/// </summary>
internal static class TestDatabase
{
    private const string Image = "postgres:15.10-alpine";
    private const string ClusterPrefix = "opsmeter-tests-";

    /// <summary>
    /// Every test host keeps an idle connection pool for its database until the run ends, and the process-level tests
    /// start whole servers on top of that: PostgreSQL's default of 100 is too few for the suite.
    /// </summary>
    private const int MaxConnections = 500;
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? serverConnectionString;

    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var server = await ServerAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..40];
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    /// <summary>The shared server's connection string, for code that makes its own databases (the durability check).</summary>
    public static async Task<string> ServerAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return serverConnectionString ??= await StartServerAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<string> StartServerAsync()
    {
        if (Environment.GetEnvironmentVariable("OPSMETER_TEST_DB") is { Length: > 0 } configured)
        {
            return configured;
        }

        PostgreSqlContainer container;
        try
        {
            // With no Docker engine this throws within a second (DockerUnavailableException).
            container = new PostgreSqlBuilder(Image).WithCommand("-c", $"max_connections={MaxConnections}").Build();
        }
        catch (Exception e) when (e.GetType().Name == "DockerUnavailableException")
        {
            RemoveAbandonedClusters();
            var directory = Path.Combine(Path.GetTempPath(), $"{ClusterPrefix}{Guid.NewGuid():N}");
            var cluster = LocalPostgres.Start(directory, throwAway: true, maxConnections: MaxConnections);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                cluster.Stop();
                Directory.Delete(directory, recursive: true);
            };
            return cluster.ConnectionString();
        }

        await container.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return container.GetConnectionString();
    }

    /// <summary>
    /// Deletes the clusters of earlier runs that did not get to clean up after themselves (the test host can be
    /// stopped before its exit handler has stopped PostgreSQL and deleted the folder; each is hundreds of MB).
    /// A folder is left alone while its postmaster runs, or while it is new enough to be another run's initdb.
    /// </summary>
    private static void RemoveAbandonedClusters()
    {
        foreach (var folder in new DirectoryInfo(Path.GetTempPath()).EnumerateDirectories(ClusterPrefix + "*"))
        {
            try
            {
                var pidFile = Path.Combine(folder.FullName, "postmaster.pid");
                var running = File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid) && IsAlive(pid);
                if (!running && folder.LastWriteTimeUtc < DateTime.UtcNow.AddMinutes(-10))
                {
                    folder.Delete(recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another run's, or not ours to delete: leave it.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
