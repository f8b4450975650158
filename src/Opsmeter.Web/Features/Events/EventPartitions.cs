using System.Collections.Concurrent;
using Npgsql;

namespace Opsmeter.Web.Features.Events;

/// <summary>
/// llm_requests is partitioned by UTC day of occurred_at (see Features/Retention). Before a request's events are
/// queued for the group commit, the days they touch must have their partitions: <c>IngestWriter.SubmitAsync</c>
/// makes sure of it on the request's own connection, so that creating a partition, and any failure doing it, concerns
/// that request alone and never the commit it would share with others. This remembers which days exist, so a request
/// asks the database only for a day it has not seen (the nightly job creates the coming week's ahead, so that is rare:
/// late or backfilled events). Thread-safe: requests and both writer loops share it.
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

    /// <summary>Creates the partitions of <paramref name="rows"/>' days that do not exist (after <see cref="Forget"/>).</summary>
    public void EnsureFor(NpgsqlConnection connection, IEnumerable<LlmRequest> rows)
    {
        foreach (var day in rows.Select(Day).Distinct().Where(day => !known.ContainsKey(day)))
        {
            Ensure(connection, day, day);
        }
    }

    /// <summary>Creates the partitions of <paramref name="from"/> to <paramref name="to"/> (both included) that do not exist yet.</summary>
    public int Ensure(NpgsqlConnection connection, DateOnly from, DateOnly to)
    {
        using var command = EnsureCommand(connection, from, to);
        var created = (int)command.ExecuteScalar()!;
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            known[day] = true;
        }

        return created;
    }

    /// <summary>Takes <paramref name="days"/> as existing (their partitions were made elsewhere, e.g. ahead by the nightly job).</summary>
    public void Remember(IEnumerable<DateOnly> days)
    {
        foreach (var day in days)
        {
            known[day] = true;
        }
    }

    /// <summary>Forgets what is known, after partitions were dropped here or elsewhere.</summary>
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
