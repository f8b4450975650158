using System.Net;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;

namespace Opsmeter.IntegrationTests.ScaleOut;

/// <summary>
/// Two Opsmeter.Web processes (node A and node B), each on its own port, on one fresh database, started at the same
/// moment as two nodes behind a load balancer would be. The delays that are fixed in production (the key cache, the
/// policy refresh, the budget evaluation schedule) are set short here, through the settings docs/scaling.md names.
/// </summary>
public sealed class TwoNodes : IAsyncLifetime
{
    public const string Key = "om_nodes_bootstrap_0123456789abcdefghij";
    public const string AdminEmail = "owner@nodes.example";
    public const string AdminPassword = "correct horse battery staple";
    public const int KeyCacheSeconds = 3;
    public const int PolicyRefreshSeconds = 3;
    public const int EvaluateEverySeconds = 2;

    private readonly List<OpsmeterProcess> processes = [];

    public string Database { get; private set; } = "";

    internal WebhookReceiver Webhooks { get; private set; } = null!;

    internal Node A { get; private set; } = null!;

    internal Node B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateDatabaseAsync("scaleout");
        Webhooks = await WebhookReceiver.StartAsync();
        var both = await Task.WhenAll(StartNodeAsync("A"), StartNodeAsync("B"));
        (A, B) = (both[0], both[1]);
    }

    /// <summary>Starts one more node on the same database and settings (stopped with the others at the end).</summary>
    internal async Task<Node> StartNodeAsync(string name, bool runsJobs = true)
    {
        var (process, address) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Jobs__RunServer"] = runsJobs ? "true" : "false",
            ["ConnectionStrings__Opsmeter"] = Database,
            ["Opsmeter__Bootstrap__ApiKey"] = Key,
            ["Opsmeter__Bootstrap__AdminEmail"] = AdminEmail,
            ["Opsmeter__Bootstrap__AdminPassword"] = AdminPassword,
            ["Opsmeter__ApiKeys__CacheSeconds"] = KeyCacheSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Opsmeter__Policy__RefreshSeconds"] = PolicyRefreshSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Opsmeter__Budgets__EvaluateEverySeconds"] = EvaluateEverySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Opsmeter__Webhooks__AllowedHosts__0"] = "127.0.0.1",
        });
        lock (processes)
        {
            processes.Add(process);
        }

        return new Node(name, process, address);
    }

    public async Task DisposeAsync()
    {
        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }

        if (Webhooks is not null)
        {
            await Webhooks.DisposeAsync();
        }
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Runs one scalar query against the nodes' database.</summary>
    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>One node: its process, its address, and a client with the bootstrap key.</summary>
internal sealed class Node(string name, OpsmeterProcess process, Uri address)
{
    public string Name { get; } = name;

    public OpsmeterProcess Process { get; } = process;

    public Uri Address { get; } = address;

    public HttpClient Api { get; } = Client(address, TwoNodes.Key);

    public static HttpClient Client(Uri address, string key)
    {
        var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        return client;
    }

    /// <summary>A browser-like client of this node sharing <paramref name="cookies"/> (the same person on another node).</summary>
    public HttpClient Browser(CookieContainer cookies) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = cookies }) { BaseAddress = Address };

    public override string ToString() => Name;
}
