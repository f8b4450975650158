using System.Net;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Usage;

/// <summary>A download is bounded in time (3 s in <see cref="BoundedApp"/>), and the dashboard shortens what /v1 refuses.</summary>
public sealed class BoundedDownloadTests(BoundedApp bounded) : IClassFixture<BoundedApp>
{
    private OpsmeterApp App => bounded.App;

    [Fact]
    public async Task A_download_the_client_stops_reading_ends_at_the_timeout_and_frees_its_database_query()
    {
        var ws = await App.CreateWorkspaceAsync("read");
        var start = DateTimeOffset.UtcNow.AddDays(-2);
        // Far more CSV than the sockets between PostgreSQL, the server and the client buffer: the query waits on the reader.
        await App.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            SELECT ensure_llm_request_partitions(({start} AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date);
            INSERT INTO llm_requests (workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id,
                input_tokens, output_tokens, total_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, latency_ms, status,
                data_mode, environment, occurred_at, received_at, cost_usd, cost_status, input_cost_usd, cached_input_cost_usd,
                cache_write_cost_usd, output_cost_usd, reasoning_cost_usd)
            SELECT {ws.Id}, gen_random_uuid(), 'bulk-' || i, 'openai', 'gpt-4o', 'endpoint-' || (i % 12), 'v' || (i % 5), 'user-' || (i % 997),
                   'tenant-' || (i % 31), 1000, 100, 1100, 0, 0, 0, 300, 'success', 'real', 'prod',
                   {start} + make_interval(secs => i * 0.5), now(), 0.0035, 'priced', 0.0025, 0, 0, 0.001, 0
            FROM generate_series(1, 200000) AS i
            """));

        using var response = await ws.Client.GetAsync("/v1/exports/requests.csv?range=7d", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();

        // The client reads nothing more. While the server waits on it, the export query is running in PostgreSQL…
        await Eventually.UntilAsync(async () => await ExportQueriesAsync() == 1, TimeSpan.FromSeconds(30), "the export query to be running");
        // …until the timeout stops it: the query ends (its connection goes back to the pool) and the download is cut off.
        await Eventually.UntilAsync(async () => await ExportQueriesAsync() == 0, TimeSpan.FromSeconds(30), "the export query to end after the 3 s timeout");
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var buffer = new byte[81920];
            while (await body.ReadAsync(buffer) > 0)
            {
            }
        });
    }

    [Fact]
    public async Task Pages_shorten_a_range_past_the_maximum_and_say_so()
    {
        var ws = await App.CreateWorkspaceAsync();
        using var person = await DashboardUser.SignedInAsync(App, ws.Id);
        var to = DateTimeOffset.UtcNow;
        var query = $"?from={BoundedQueryTests.Iso(to.AddDays(-45))}&to={BoundedQueryTests.Iso(to)}";

        foreach (var page in new[] { "/Dashboard", "/Dashboard/Breakdown/endpointTag", "/Dashboard/Events", "/Dashboard/Compare" })
        {
            var (response, html) = await person.GetAsync(page + query);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("data-range-notice", html, StringComparison.Ordinal);
            Assert.Contains("at most 30 days", html, StringComparison.Ordinal);
        }

        var (fine, fineHtml) = await person.GetAsync($"/Dashboard?from={BoundedQueryTests.Iso(to.AddDays(-30))}&to={BoundedQueryTests.Iso(to)}");
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        Assert.DoesNotContain("data-range-notice", fineHtml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_breakdown_with_more_values_than_the_cap_lists_the_largest_and_says_the_rest_are_left_out()
    {
        var ws = await App.CreateWorkspaceAsync();
        var day = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-1), TimeSpan.Zero);
        await BoundedQueryTests.SeedAsync(ws, day, [.. Enumerable.Range(1, 7).Select(i => ($"e{i:00}", 1, (decimal)i))]);
        using var person = await DashboardUser.SignedInAsync(App, ws.Id);

        var (response, html) = await person.GetAsync($"/Dashboard/Breakdown/endpointTag?range=7d&sort=key&dir=asc");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-truncated", html, StringComparison.Ordinal);
        Assert.Contains(">e07<", html, StringComparison.Ordinal);
        Assert.Contains(">e03<", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">e02<", html, StringComparison.Ordinal); // the two smallest are left out, whatever the sort
        Assert.DoesNotContain(">e01<", html, StringComparison.Ordinal);
    }

    /// <summary>Export queries of this app's database that PostgreSQL is running now (not this one).</summary>
    private Task<int> ExportQueriesAsync() => App.WithDbAsync(db => db.Database.SqlQuery<int>($"""
        SELECT count(*)::int AS "Value" FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%ORDER BY occurred_at, id%'
        """).SingleAsync());
}
