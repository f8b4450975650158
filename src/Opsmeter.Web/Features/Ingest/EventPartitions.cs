using System.Collections.Concurrent;
using Npgsql;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// llm_requests is partitioned by UTC day of occurred_at (see Features/Retention). Before a batch is stored, the
/// days it touches must have their partitions; this remembers which do, so the hot path asks the database only for a
/// day it has not seen (the nightly job creates the coming week's ahead, so that is rare: late or backfilled events).
/// Thread-safe: both writer loops share it.
/// </summary>
internal sealed class EventPartitions
{
    private readonly ConcurrentDictionary<DateOnly, bool> known = new();

    public void EnsureFor(NpgsqlConnection connection, IEnumerable<LlmRequest> rows)
    {
        foreach (var day in rows.Select(r => DateOnly.FromDateTime(r.OccurredAt.UtcDateTime)).Distinct())
        {
            if (!known.ContainsKey(day))
            {
                Ensure(connection, day, day);
            }
        }
    }

    /// <summary>Creates the partitions of <paramref name="from"/> to <paramref name="to"/> (both included) that do not exist yet.</summary>
    public int Ensure(NpgsqlConnection connection, DateOnly from, DateOnly to)
    {
        using var command = new NpgsqlCommand("SELECT ensure_llm_request_partitions(@from, @to)", connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        var created = (int)command.ExecuteScalar()!;
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            known[day] = true;
        }

        return created;
    }

    /// <summary>Forgets what is known, after partitions were dropped here or elsewhere.</summary>
    public void Forget() => known.Clear();
}
