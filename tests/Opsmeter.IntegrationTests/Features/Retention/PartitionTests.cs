using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Features.Usage;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Retention;

/// <summary>Daily partitions of llm_requests: made ahead for the whole backfill window, never by the commit loop. An app of its own (it drops one).</summary>
public sealed class PartitionTests : IAsyncLifetime, IDisposable
{
    private readonly OpsmeterApp app = new();
    private readonly DateOnly today = DateOnly.FromDateTime(DateTime.UtcNow);

    public Task InitializeAsync() => app.InitializeAsync();

    public Task DisposeAsync() => app.DisposeAsync();

    public void Dispose() => app.Dispose();

    [Fact]
    public async Task Start_up_makes_every_day_ingest_accepts_before_the_first_event()
    {
        // The default 30 days back (the cutoff's day) to a week ahead, made before any event was sent.
        var days = await DaysAsync();
        for (var day = today.AddDays(-30); day <= today.AddDays(PartitionMaintenance.DaysAhead); day = day.AddDays(1))
        {
            Assert.Contains(day, days);
        }

        // A workspace keeping 90 days: the next maintenance pass makes its older days too.
        var ws = await app.CreateWorkspaceAsync();
        await app.KeepRawEventsAsync(ws.Id, 90);
        Assert.Equal(60, await app.Services.GetRequiredService<PartitionMaintenance>().RunOnceAsync(CancellationToken.None));
        Assert.Contains(today.AddDays(-90), await DaysAsync());
    }

    [Fact]
    public async Task A_day_gone_at_commit_fails_its_own_request_with_503_and_the_retry_makes_it_again()
    {
        var ws = await app.CreateWorkspaceAsync();
        var gone = today.AddDays(-3);
        // Dropped behind the app's back (as a purge racing a retention change could): it still believes the day exists.
        await ExecuteAsync($"ALTER TABLE llm_requests DETACH PARTITION llm_requests_p{gone:yyyyMMdd}; DROP TABLE llm_requests_p{gone:yyyyMMdd}");
        var at = new DateTimeOffset(gone.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);

        var refused = await ws.Client.PostAsync("/v1/ingest", Json(new TestEvent { ExternalRequestId = "gone-day", OccurredAt = at }.Json()));
        var others = await ws.Client.PostAsync("/v1/ingest", Json(new TestEvent { ExternalRequestId = "today" }.Json()));
        var retried = await ws.Client.PostAsync("/v1/ingest", Json(new TestEvent { ExternalRequestId = "gone-day", OccurredAt = at }.Json()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, others.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Contains("\"duplicate\":false", await retried.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(gone, await DaysAsync());
    }

    [Fact]
    public async Task The_fold_reads_only_the_partitions_that_can_hold_unfolded_events()
    {
        // A day past every workspace's retention, not dropped yet (the purge runs nightly): no event in it can be unfolded.
        var expired = today.AddDays(-60);
        await ExecuteAsync($"SELECT ensure_llm_request_partitions('{expired:yyyy-MM-dd}', '{expired:yyyy-MM-dd}')");

        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var explain = new NpgsqlCommand("EXPLAIN " + RollupWorker.Fold, connection);
        explain.Parameters.AddWithValue("from", 0L);
        explain.Parameters.AddWithValue("below", long.MaxValue);
        explain.Parameters.AddWithValue("oldest", RollupWorker.UnfoldedFrom(DateTimeOffset.UtcNow, 30));
        explain.Parameters.AddWithValue("finished", RollupGenerations.WriterFinishedBefore(DateTimeOffset.UtcNow));
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        var text = string.Join("\n", plan);
        Assert.Contains($"llm_requests_p{today:yyyyMMdd}", text, StringComparison.Ordinal);
        Assert.Contains($"llm_requests_p{today.AddDays(-30):yyyyMMdd}", text, StringComparison.Ordinal);
        Assert.DoesNotContain($"llm_requests_p{expired:yyyyMMdd}", text, StringComparison.Ordinal);
    }

    private async Task<HashSet<DateOnly>> DaysAsync()
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT to_date(right(c.relname, 8), 'YYYYMMDD') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'llm_requests'::regclass
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var days = new HashSet<DateOnly>();
        while (await reader.ReadAsync())
        {
            days.Add(reader.GetFieldValue<DateOnly>(0));
        }

        return days;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
