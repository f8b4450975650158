using System.Collections.Concurrent;
using Npgsql;

namespace Opsmeter.Web.Features.Events;

/// <summary>
/// llm_requests is partitioned by UTC day of occurred_at (see Features/Retention). PartitionMaintenance (Features/Retention) creates
/// every day of the backfill window at start-up, before ingest opens, and hourly after, so a request normally finds its
/// days here in memory and runs no DDL at all. A day still missing (a workspace's retention raised since maintenance last
/// ran) is created by <c>IngestWriter.SubmitAsync</c> on the request's own connection, so that creating it, and any failure
/// doing it, concerns that request alone; the group-commit writer loops never run DDL. Thread-safe: requests, the writer
/// loops and maintenance share it.
/// </summary>
internal sealed class EventPartitions
{
    private readonly ConcurrentDictionary<DateOnly, bool> known = new();
    private readonly ConcurrentDictionary<DateOnly, Lazy<Task>> creating = new();

    /// <summary>Whether every day of <paramref name="rows"/> is known to have its partition.</summary>
    public bool AllKnown(IReadOnlyList<LlmRequest> rows)
    {
        DateOnly? checkedDay = null;
        foreach (var row in rows)
        {
            var day = Day(row);
            if (day != checkedDay)
            {
                if (!known.ContainsKey(day))
                {
                    return false;
                }

                checkedDay = day;
            }
        }

        return true;
    }

    /// <summary>
    /// Creates the partitions that <paramref name="rows"/> need and this process does not know to exist. Requests that
    /// need the same day at the same moment (a burst after a restart) share one creation rather than queue on the
    /// database's lock one by one; a failed creation is forgotten, so the next request tries again.
    /// </summary>
    public async Task EnsureForAsync(NpgsqlDataSource dataSource, IReadOnlyList<LlmRequest> rows, CancellationToken ct)
    {
        foreach (var day in rows.Select(Day).Distinct().Where(day => !known.ContainsKey(day)).Order())
        {
            var creation = creating.GetOrAdd(day, d => new Lazy<Task>(() => CreateAsync(dataSource, d)));
            try
            {
                await creation.Value.WaitAsync(ct);
            }
            finally
            {
                // Done either way: known now, or failed and to be tried afresh by the next request.
                creating.TryRemove(KeyValuePair.Create(day, creation));
            }
        }
    }

    private async Task CreateAsync(NpgsqlDataSource dataSource, DateOnly day)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = EnsureCommand(connection, day, day);
        await command.ExecuteScalarAsync();
        known[day] = true;
    }

    /// <summary>
    /// Creates the partitions of <paramref name="from"/> to <paramref name="to"/> (both included) that do not exist yet, a
    /// week per transaction: a long window (years of retention) in one transaction would take a lock per new table and index
    /// and run out of PostgreSQL's lock table. Returns how many it created.
    /// </summary>
    public async Task<int> EnsureAsync(NpgsqlDataSource dataSource, DateOnly from, DateOnly to, CancellationToken ct)
    {
        var created = 0;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        for (var chunk = from; chunk <= to; chunk = chunk.AddDays(7))
        {
            var last = chunk.AddDays(6) < to ? chunk.AddDays(6) : to;
            await using var command = EnsureCommand(connection, chunk, last);
            created += (int)(await command.ExecuteScalarAsync(ct))!;
            for (var day = chunk; day <= last; day = day.AddDays(1))
            {
                known[day] = true;
            }
        }

        return created;
    }

    /// <summary>Takes <paramref name="days"/> as existing (their partitions were made elsewhere).</summary>
    public void Remember(IEnumerable<DateOnly> days)
    {
        foreach (var day in days)
        {
            known[day] = true;
        }
    }

    /// <summary>
    /// Forgets what is known, after partitions were dropped here or elsewhere (or a commit found a day missing): the next
    /// request for a day asks the database again, on its own connection.
    /// </summary>
    public void Forget() => known.Clear();

    private static DateOnly Day(LlmRequest row) => DateOnly.FromDateTime(row.OccurredAt.UtcDateTime);

    private static NpgsqlCommand EnsureCommand(NpgsqlConnection connection, DateOnly from, DateOnly to)
    {
        var command = new NpgsqlCommand("SELECT ensure_llm_request_partitions(@from, @to)", connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        return command;
    }
}
