using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Opsmeter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Opsmeter.IntegrationTests.ScaleOut;

/// <summary>
/// docs/scaling.md "Application nodes": two Opsmeter processes on one PostgreSQL, requests spread over both. The delays
/// are the fixture's short settings; each test prints the delay it observed.
/// </summary>
[Collection(ProcessLevel.Name)]
public sealed partial class TwoNodeTests(TwoNodes nodes, ITestOutputHelper output) : IClassFixture<TwoNodes>
{
    /// <summary>What a busy two-core machine may add to a configured delay before the deadline counts as missed.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Both_nodes_started_at_once_on_an_empty_database_migrate_seed_and_bootstrap_once()
    {
        // The fixture started A and B at the same moment on a database with nothing in it; both serve.
        foreach (var node in new[] { nodes.A, nodes.B })
        {
            Assert.Equal(HttpStatusCode.OK, (await node.Api.GetAsync("/health/ready")).StatusCode);
        }

        Assert.Equal(1L, await nodes.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE name = 'default'"));
        Assert.Equal(1L, await nodes.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE name = 'bootstrap'"));
        Assert.Equal(1L, await nodes.ScalarAsync<long>("SELECT count(*) FROM users"));
        Assert.Equal(1L, await nodes.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'workspace.created'"));
        var log = nodes.A.Process.Output + nodes.B.Process.Output;
        Assert.Single(CreatedWorkspace().Matches(log));
        Assert.Single(RegisteredKey().Matches(log));
    }

    [Fact]
    public async Task The_same_externalRequestIds_sent_to_both_nodes_at_once_are_stored_once_and_both_answers_agree()
    {
        var ids = Enumerable.Range(0, 40).Select(i => $"both-{i}-{Guid.NewGuid():N}").ToArray();

        var answers = await Task.WhenAll(ids.Select(async id =>
        {
            var body = $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o","inputTokens":1000,"outputTokens":500,"status":"success"}""";
            var pair = await Task.WhenAll(nodes.A.Api.PostAsync("/v1/ingest", HttpExtensions.Json(body)),
                nodes.B.Api.PostAsync("/v1/ingest", HttpExtensions.Json(body)));
            return (Id: id, A: await ReadAsync(pair[0]), B: await ReadAsync(pair[1]));
        }));

        foreach (var (id, a, b) in answers)
        {
            Assert.Equal(1, new[] { a, b }.Count(x => !x.GetProperty("duplicate").GetBoolean()));
            Assert.Equal(a.GetProperty("costUsd").GetDecimal(), b.GetProperty("costUsd").GetDecimal());
            Assert.Equal(id, b.GetProperty("externalRequestId").GetString());
        }

        Assert.Equal((long)ids.Length, await nodes.ScalarAsync<long>(
            "SELECT count(*) FROM llm_requests WHERE external_request_id = ANY(@ids)", ("ids", ids)));
    }

    [Fact]
    public async Task A_key_revoked_on_node_A_is_refused_there_at_once_and_on_node_B_within_the_key_cache_lifetime()
    {
        var created = await nodes.A.Api.PostAsJsonAsync("/v1/keys", new { name = "revoked-across-nodes", scopes = new[] { "ingest", "read" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var onA = Node.Client(nodes.A.Address, key.GetProperty("key").GetString()!);
        using var onB = Node.Client(nodes.B.Address, key.GetProperty("key").GetString()!);
        // Both nodes have the key's grant in memory.
        Assert.Equal(HttpStatusCode.OK, (await onA.GetAsync("/v1/policy")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("/v1/policy")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await nodes.A.Api.DeleteAsync($"/v1/keys/{key.GetProperty("id").GetGuid()}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await onA.GetAsync("/v1/policy")).StatusCode);
        var lag = await Eventually.UntilAsync(async () => (await onB.GetAsync("/v1/policy")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(TwoNodes.KeyCacheSeconds) + Margin, "node B refusing the revoked key");
        output.WriteLine($"revoked key refused on node B {lag.TotalSeconds:0.0} s after the revocation on node A " +
            $"(Opsmeter__ApiKeys__CacheSeconds={TwoNodes.KeyCacheSeconds})");
    }

    [Fact]
    public async Task Signed_in_on_node_A_the_dashboard_and_its_forms_work_on_node_B()
    {
        var cookies = new CookieContainer();
        using var onA = nodes.A.Browser(cookies);
        using var onB = nodes.B.Browser(cookies);
        var signIn = await PostFormAsync(onA, "/account/signin", onA, "/account/signin",
            new() { ["Form.Email"] = TwoNodes.AdminEmail, ["Form.Password"] = TwoNodes.AdminPassword });
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);

        var dashboard = await onB.GetAsync("/Dashboard/Members");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains(TwoNodes.AdminEmail, await dashboard.Content.ReadAsStringAsync());

        // A form rendered by node A (its antiforgery token) is accepted by node B.
        var invited = await PostFormAsync(onA, "/Dashboard/Members", onB, "/Dashboard/Members?handler=Invite",
            new() { ["Form.Email"] = $"{Guid.NewGuid():N}@nodes.example", ["Form.Role"] = "member" });
        Assert.Equal(HttpStatusCode.OK, invited.StatusCode);
        Assert.Contains("id=\"invite-link\"", await invited.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Budgets_are_evaluated_once_with_both_nodes_running_jobs_and_node_B_policy_follows_within_its_refresh_interval()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        // The Alerts page on node A, through the same sign-in as a person would.
        var cookies = new CookieContainer();
        using var browser = nodes.A.Browser(cookies);
        await PostFormAsync(browser, "/account/signin", browser, "/account/signin",
            new() { ["Form.Email"] = TwoNodes.AdminEmail, ["Form.Password"] = TwoNodes.AdminPassword });
        var channel = await PostFormAsync(browser, "/Dashboard/Alerts", browser, "/Dashboard/Alerts?handler=Create",
            new() { ["Form.Name"] = $"nodes-{run}", ["Form.Url"] = nodes.Webhooks.Url, ["Form.Format"] = "generic" });
        Assert.Equal(HttpStatusCode.OK, channel.StatusCode);
        // One budget that only reaches its warning, one that goes past its limit; each counts only its own endpoint's events.
        var warned = await CreateBudgetAsync($"warned-{run}", $"warn-{run}", limitUsd: 10m);
        var exceeded = await CreateBudgetAsync($"exceeded-{run}", $"exceed-{run}", limitUsd: 1m);

        // The spend arrives through both nodes.
        await IngestAsync(nodes.A, $"warn-{run}", 3m);
        await IngestAsync(nodes.B, $"warn-{run}", 3m);
        await IngestAsync(nodes.A, $"exceed-{run}", 0.75m);
        await IngestAsync(nodes.B, $"exceed-{run}", 0.75m);
        var spent = DateTimeOffset.UtcNow;

        // Node B answers from its own snapshot: it follows the evaluation (on whichever node's worker ran it) within its refresh.
        TimeSpan lag;
        try
        {
            lag = await Eventually.UntilAsync(async () => (await PolicyAsync(nodes.B, $"exceed-{run}")) == "block",
                TimeSpan.FromSeconds(TwoNodes.EvaluateEverySeconds + TwoNodes.PolicyRefreshSeconds) + Margin, "node B's policy blocking");
        }
        catch
        {
            output.WriteLine(await nodes.B.Api.GetStringAsync($"/v1/policy?endpointTag=exceed-{run}"));
            output.WriteLine(nodes.A.Process.Output + "\n----\n" + nodes.B.Process.Output);
            throw;
        }

        output.WriteLine($"node B's /v1/policy answered block {lag.TotalSeconds:0.0} s after the spend was acknowledged " +
            $"(evaluation every {TwoNodes.EvaluateEverySeconds} s, Opsmeter__Policy__RefreshSeconds={TwoNodes.PolicyRefreshSeconds})");

        // Both levels announced; then more evaluations by both nodes' workers, and both nodes saving the budget at once.
        await Eventually.UntilAsync(() => Task.FromResult(Received($"warned-{run}") == 1 && Received($"exceeded-{run}") == 1),
            TimeSpan.FromSeconds(TwoNodes.EvaluateEverySeconds) + Margin + Margin, "one webhook per level received");
        await Task.WhenAll(ResaveAsync(nodes.A, exceeded.Id, exceeded.Body), ResaveAsync(nodes.B, exceeded.Id, exceeded.Body),
            ResaveAsync(nodes.A, warned.Id, warned.Body), ResaveAsync(nodes.B, warned.Id, warned.Body));
        var later = DateTimeOffset.UtcNow.AddSeconds(2 * TwoNodes.EvaluateEverySeconds);
        await Eventually.UntilAsync(async () => await nodes.ScalarAsync<DateTime>(
                "SELECT min(evaluated_at) FROM budgets WHERE id = ANY(@ids)", ("ids", new[] { warned.Id, exceeded.Id })) > later.UtcDateTime,
            TimeSpan.FromSeconds(4 * TwoNodes.EvaluateEverySeconds) + Margin, "two more scheduled evaluations");

        foreach (var (budget, level) in new[] { (warned.Id, "warning"), (exceeded.Id, "exceeded") })
        {
            Assert.Equal(1L, await nodes.ScalarAsync<long>("SELECT count(*) FROM incidents WHERE budget_id = @id", ("id", budget)));
            Assert.Equal(level, await nodes.ScalarAsync<string>("SELECT level FROM incidents WHERE budget_id = @id", ("id", budget)));
            Assert.Equal(1L, await nodes.ScalarAsync<long>(
                "SELECT count(*) FROM webhook_deliveries d JOIN incidents i ON i.id = d.incident_id WHERE i.budget_id = @id", ("id", budget)));
        }

        Assert.Equal(1, Received($"warned-{run}"));
        Assert.Equal(1, Received($"exceeded-{run}"));
        output.WriteLine($"checked {(DateTimeOffset.UtcNow - spent).TotalSeconds:0} s of evaluations after the spend");
    }

    [Fact]
    public async Task A_node_killed_with_kill_9_under_load_loses_no_acknowledged_event_and_the_other_keeps_serving()
    {
        // A third node joins (A and B stay up for the other tests), takes half the load, and is killed. It runs no Hangfire
        // workers: a node killed while holding Hangfire's scheduling lock holds up the recurring jobs of the others (docs/scaling.md).
        var doomed = await nodes.StartNodeAsync("C", runsJobs: false);
        using var doomedApi = Node.Client(doomed.Address, TwoNodes.Key);
        var acknowledged = new ConcurrentBag<string>();
        var survivorAfterKill = new ConcurrentBag<HttpStatusCode>();
        var killed = false;
        long next = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var (client, name) = worker % 2 == 0 ? (nodes.A.Api, "A") : (doomedApi, "C");
            while (!stop.IsCancellationRequested)
            {
                var id = $"k9-{name}-{Interlocked.Increment(ref next)}";
                var afterKill = Volatile.Read(ref killed);
                try
                {
                    var response = await client.PostAsync("/v1/ingest", HttpExtensions.Json(
                        $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}"""));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledged.Add(id);
                    }

                    if (afterKill && name == "A")
                    {
                        survivorAfterKill.Add(response.StatusCode);
                    }
                }
                catch (HttpRequestException) when (name == "C")
                {
                    // The killed node went away: this request was not acknowledged.
                }
            }
        })).ToArray();
        await Eventually.UntilAsync(() => Task.FromResult(acknowledged.Count(id => id.StartsWith("k9-C", StringComparison.Ordinal)) >= 200),
            TimeSpan.FromSeconds(60), "200 events acknowledged by node C");

        await doomed.Process.KillAsync();
        Volatile.Write(ref killed, true);
        await Eventually.UntilAsync(() => Task.FromResult(survivorAfterKill.Count >= 200 || load.Any(t => t.IsFaulted)),
            TimeSpan.FromSeconds(60), "node A serving 200 requests after the kill");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.All(survivorAfterKill, status => Assert.Equal(HttpStatusCode.OK, status));
        var ids = acknowledged.ToArray();
        Assert.Equal((long)ids.Length, await nodes.ScalarAsync<long>(
            "SELECT count(*) FROM llm_requests WHERE external_request_id = ANY(@ids)", ("ids", ids)));
        output.WriteLine($"{ids.Count(id => id.StartsWith("k9-C", StringComparison.Ordinal))} events acknowledged by the killed node, " +
            $"{ids.Count(id => id.StartsWith("k9-A", StringComparison.Ordinal))} by the survivor; all stored");
    }

    private async Task<(Guid Id, object Body)> CreateBudgetAsync(string name, string endpointTag, decimal limitUsd)
    {
        var body = new
        {
            name, limitUsd, period = "monthly", warningThresholds = new[] { 0.5m }, onExceeded = "block",
            scope = new { dimension = "endpointTag", value = endpointTag },
        };
        var response = await nodes.A.Api.PostAsJsonAsync("/v1/budgets", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return ((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid(), body);
    }

    private static async Task ResaveAsync(Node node, Guid id, object body) =>
        Assert.Equal(HttpStatusCode.OK, (await node.Api.PutAsJsonAsync($"/v1/budgets/{id}", body)).StatusCode);

    private static async Task IngestAsync(Node node, string endpointTag, decimal costUsd)
    {
        var body = $$"""
            {"externalRequestId":"{{Guid.NewGuid():N}}","provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,
             "status":"success","endpointTag":"{{endpointTag}}","costUsd":{{costUsd.ToString(System.Globalization.CultureInfo.InvariantCulture)}},
             "costReportedBy":"provider"}
            """;
        Assert.Equal(HttpStatusCode.OK, (await node.Api.PostAsync("/v1/ingest", HttpExtensions.Json(body))).StatusCode);
    }

    private static async Task<string?> PolicyAsync(Node node, string endpointTag)
    {
        var policy = await node.Api.GetFromJsonAsync<JsonElement>($"/v1/policy?endpointTag={endpointTag}");
        return policy.GetProperty("action").GetString();
    }

    private int Received(string budgetName) => nodes.Webhooks.Received.Count(w => w.Body.Contains(budgetName, StringComparison.Ordinal));

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>GETs <paramref name="page"/> from one node for its antiforgery token and workspace, POSTs the form to another.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient pageNode, string page, HttpClient postNode, string action,
        Dictionary<string, string> fields)
    {
        var html = await pageNode.GetStringAsync(page);
        var token = Token().Match(html);
        Assert.True(token.Success, $"no antiforgery token on {page}");
        fields["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value);
        if (WorkspaceField().Match(html) is { Success: true } workspace)
        {
            fields.TryAdd("workspaceId", workspace.Groups[1].Value);
        }

        return await postNode.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    [GeneratedRegex("name=\"workspaceId\" value=\"([^\"]+)\"")]
    private static partial Regex WorkspaceField();

    [GeneratedRegex("Created workspace default")]
    private static partial Regex CreatedWorkspace();

    [GeneratedRegex("Registered the bootstrap API key")]
    private static partial Regex RegisteredKey();
}
