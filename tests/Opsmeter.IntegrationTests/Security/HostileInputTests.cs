using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Security;

/// <summary>
/// Issue 19's hostile-input suite for the API: thousands of generated bad requests across every <c>/v1</c> route (see
/// <see cref="HostileRequests"/>). Never a 5xx; every 4xx is problem details; what is invalid by construction is refused;
/// a refused request writes no row in any table of its workspace (and a GET none at all); the server stays ready; and a
/// bystander in another workspace ingesting throughout gets only 200s. Run: <c>./test.sh --filter FullyQualifiedName~HostileInput</c>.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class HostileInputTests(OpsmeterApp app)
{
    private const int Parallelism = 8;

    [Fact]
    public void Every_v1_route_has_generated_cases()
    {
        var mapped = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["ANY"]).Select(m => $"{m} {e.RoutePattern.RawText!.TrimEnd('/')}"))
            .ToHashSet();
        var examples = HostileRoutes.All.ToDictionary(e => e.Route);

        var uncovered = mapped.Where(route => !examples.ContainsKey(route) || !HostileRequests.For(examples[route], new Random(HostileRequests.Seed)).Any());
        Assert.True(!uncovered.Any(), "no hostile cases for: " + string.Join(", ", uncovered));
        Assert.Empty(examples.Keys.Except(mapped)); // an example for a route the app no longer has
    }

    [Fact]
    public async Task The_valid_examples_answer_as_documented()
    {
        using var client = app.CreateClient();
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(HostileRoutes.All, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (example, _) =>
        {
            var (_, key) = (await CreateWorkspacesAsync(1))[0];
            var budget = example.NeedsBudget ? await CreateBudgetAsync(client, key) : null;
            var valid = HostileRequests.For(example, new Random(HostileRequests.Seed)).First();
            var withKey = valid with { Key = "", MustRefuse = false, PathAndQuery = valid.PathAndQuery.Replace("{id}", budget, StringComparison.Ordinal) };
            using var response = await SendAsync(client, withKey, key);
            if ((int)response.StatusCode != example.Valid)
            {
                failures.Add($"{example.Route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
            }
        });

        Assert.Empty(failures);
    }

    [Fact]
    public async Task Thousands_of_hostile_requests_get_4xx_problem_details_write_nothing_and_disturb_no_one()
    {
        var random = new Random(HostileRequests.Seed);
        var cases = HostileRoutes.All.SelectMany(e => HostileRequests.For(e, random)).ToList();
        Assert.True(cases.Count >= 2_000, $"only {cases.Count} cases");
        using var client = app.CreateClient();

        // Each writing case gets a workspace of its own, so that its rows are its alone; reading cases share one that nothing may write to.
        var setup = System.Diagnostics.Stopwatch.StartNew();
        var writers = cases.Where(c => c.Example.Writes).ToList();
        var workspaces = await CreateWorkspacesAsync(writers.Count + 1);
        var reader = workspaces[^1];
        var readerBudget = await CreateBudgetAsync(client, reader.Key);
        var targets = new (Guid Id, string Key, string PathAndQuery)[cases.Count];
        var next = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, cases.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, _) =>
        {
            var c = cases[i];
            var (id, key) = c.Example.Writes ? workspaces[Interlocked.Increment(ref next) - 1] : reader;
            var budget = c.Example.NeedsBudget ? (c.Example.Writes ? await CreateBudgetAsync(client, key) : readerBudget) : null;
            targets[i] = (id, key, c.PathAndQuery.Replace("{id}", budget, StringComparison.Ordinal));
        });
        var before = await CountRowsAsync(workspaces.Select(w => w.Id));
        Console.WriteLine($"{workspaces.Count} workspaces and their budgets made in {setup.Elapsed}");
        var timer = System.Diagnostics.Stopwatch.StartNew();

        using var bystander = new Bystander(await app.CreateWorkspaceAsync(ApiKeyScopes.Ingest));
        var statuses = new int[cases.Count];
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, cases.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, _) =>
        {
            var c = cases[i] with { PathAndQuery = targets[i].PathAndQuery };
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(client, c, targets[i].Key);
            }
            catch (HttpRequestException e)
            {
                // A response the server began and then broke off: a failure the client sees as a dropped connection.
                statuses[i] = 599;
                failures.Add($"broken response ({e.InnerException?.Message ?? e.Message}) for {c}");
                return;
            }

            using var answer = response;
            var status = statuses[i] = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
            if (status >= 500 || (c.MustRefuse && status is < 400 or >= 500))
            {
                failures.Add($"{status} for {c}\n  → {text[..Math.Min(text.Length, 400)]}");
            }
            else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{status} as {response.Content.Headers.ContentType?.MediaType ?? "no content type"} for {c}");
            }
        });
        var bystanderStatuses = await bystander.StopAsync();
        Console.WriteLine($"{cases.Count} hostile cases ({writers.Count} writes) sent in {timer.Elapsed}");

        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} cases failed, e.g.:\n" + string.Join("\n", failures.Take(15)));
        using var health = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(bystanderStatuses.Count > 0 && bystanderStatuses.All(s => s == 200), "bystander saw: " + string.Join(",", bystanderStatuses.Distinct()));
        Assert.Equal(bystanderStatuses.Count, await app.WithDbAsync(db => Task.FromResult(db.LlmRequests.Count(r => r.WorkspaceId == bystander.Workspace.Id))));

        // No partial rows: a refused write left its workspace as it was, and the reads wrote nothing whatever they answered.
        var after = await CountRowsAsync(workspaces.Select(w => w.Id));
        var counted = after.Keys.Concat(before.Keys).Distinct().ToLookup(k => k.Item2);
        var changed = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var mustBeUnchanged = !cases[i].Example.Writes || statuses[i] >= 400;
            if (mustBeUnchanged && Changes(before, after, counted[targets[i].Id]) is { Length: > 0 } tables)
            {
                changed.Add($"{statuses[i]} for {cases[i]} changed {tables}");
            }
        }

        Assert.True(changed.Count == 0, string.Join("\n", changed.Take(10)));
    }

    private static string Changes(Dictionary<(string, Guid), long> before, Dictionary<(string, Guid), long> after, IEnumerable<(string, Guid)> ofWorkspace) =>
        string.Join(", ", ofWorkspace
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Select(k => $"{k.Item1} {before.GetValueOrDefault(k)}→{after.GetValueOrDefault(k)}"));

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HostileCase c, string workspaceKey)
    {
        using var request = new HttpRequestMessage(new HttpMethod(c.Example.Method), c.PathAndQuery);
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(c.Body);
            request.Content.Headers.ContentType = c.ContentType is null ? null : MediaTypeHeaderValue.Parse(c.ContentType);
            // A big body waits for the server's early 413 instead of being pushed into a closed connection.
            request.Headers.ExpectContinue = c.Body.Length > 64 * 1024;
        }

        if ((c.Key == "" ? workspaceKey : c.Key) is { } key)
        {
            request.Headers.TryAddWithoutValidation("X-API-Key", key);
        }

        return await client.SendAsync(request);
    }

    private static async Task<string> CreateBudgetAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/budgets") { Content = HttpExtensions.Json(HostileRoutes.Budget) };
        request.Headers.Add("X-API-Key", key);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<IdOnly>())!.Id.ToString();
    }

    private sealed record IdOnly(Guid Id);

    /// <summary>
    /// Workspaces with an all-scopes key each, made directly in one SaveChanges (EF batches the inserts): thousands of them
    /// in a few seconds, where one request or SaveChanges each took most of the run. Test fixtures, so no audit entries.
    /// </summary>
    private async Task<List<(Guid Id, string Key)>> CreateWorkspacesAsync(int count)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var made = new List<(Guid, string)>(count);
        for (var i = 0; i < count; i++)
        {
            var workspace = new Workspace { Id = Guid.CreateVersion7(), Name = "hostile-" + Guid.NewGuid().ToString("N"), CreatedAt = DateTimeOffset.UtcNow };
            var (key, prefix) = ApiKeySecrets.Generate();
            db.Workspaces.Add(workspace);
            db.ApiKeys.Add(new ApiKey
            {
                WorkspaceId = workspace.Id, Id = Guid.CreateVersion7(), Name = "hostile", Prefix = prefix, KeyHash = ApiKeySecrets.Hash(key),
                Scopes = [.. ApiKeyScopes.All], CreatedAt = workspace.CreatedAt,
            });
            made.Add((workspace.Id, key));
        }

        await db.SaveChangesAsync();
        return made;
    }

    /// <summary>Rows per table and workspace, over every table that has a workspace_id.</summary>
    private async Task<Dictionary<(string, Guid), long>> CountRowsAsync(IEnumerable<Guid> workspaces)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("""
            SELECT c.table_name FROM information_schema.columns c JOIN pg_class t ON t.relname = c.table_name AND NOT t.relispartition
            WHERE c.table_schema = 'public' AND c.column_name = 'workspace_id' ORDER BY 1
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var sql = string.Join(" UNION ALL ", tables.Select(t => $"SELECT '{t}', workspace_id, count(*) FROM \"{t}\" WHERE workspace_id = ANY(@ids) GROUP BY 2"));
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("ids", workspaces.ToArray());
        await using var rows = await command.ExecuteReaderAsync();
        var counts = new Dictionary<(string, Guid), long>();
        while (await rows.ReadAsync())
        {
            counts[(rows.GetString(0), rows.GetGuid(1))] = rows.GetInt64(2);
        }

        return counts;
    }

    /// <summary>Another workspace's client ingesting valid events, one after another, for as long as the hostile run lasts.</summary>
    private sealed class Bystander : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task<List<int>> run;

        public Bystander(TestWorkspace workspace)
        {
            Workspace = workspace;
            run = Task.Run(async () =>
            {
                var statuses = new List<int>();
                while (!stop.IsCancellationRequested)
                {
                    var body = HostileRoutes.Event("bystander-" + statuses.Count);
                    using var response = await workspace.Client.PostAsync("/v1/ingest", new StringContent(body, Encoding.UTF8, "application/json"));
                    statuses.Add((int)response.StatusCode);
                }

                return statuses;
            });
        }

        public TestWorkspace Workspace { get; }

        public async Task<List<int>> StopAsync()
        {
            await stop.CancelAsync();
            return await run;
        }

        public void Dispose()
        {
            stop.Dispose();
            Workspace.Client.Dispose();
        }
    }
}
