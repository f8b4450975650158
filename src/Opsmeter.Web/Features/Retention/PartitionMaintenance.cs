using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.Web.Features.Retention;

/// <summary>
/// Creates the daily partitions of llm_requests for every day an event may arrive for: the backfill window, from the day
/// of the longest raw retention among workspaces (ingest accepts an <c>occurredAt</c> that old, docs/api.md) to
/// <see cref="DaysAhead"/> days ahead (ingest accepts a few minutes ahead; the margin covers maintenance not running for
/// days). Runs in the start-up sequence before ingest opens, then hourly, and in the nightly retention job. The retention
/// job drops only days before this window (<see cref="RetentionRules.DropPartitionsBefore"/>), so the two never disagree
/// about a day inside it.
/// </summary>
internal sealed class PartitionMaintenance(NpgsqlDataSource dataSource, EventPartitions partitions, TimeProvider clock,
    ILogger<PartitionMaintenance> logger) : BackgroundService
{
    public const int DaysAhead = 7;
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>The days whose partitions must exist at <paramref name="now"/>, both included.</summary>
    public static (DateOnly From, DateOnly To) Window(DateTimeOffset now, int longestRawDays) =>
        (RetentionRules.DropPartitionsBefore(now, longestRawDays), DateOnly.FromDateTime(now.UtcDateTime).AddDays(DaysAhead));

    /// <summary>The longest raw retention among workspaces (the default when there are none): how far back ingest accepts events.</summary>
    public static async Task<int> LongestRawRetentionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(max(raw_retention_days), @default) FROM workspaces", connection, transaction);
        command.Parameters.AddWithValue("default", RetentionRules.DefaultRawDays);
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Creates the window's missing partitions as of now; returns how many it created.</summary>
    public Task<int> RunOnceAsync(CancellationToken ct) => EnsureWindowAsync(clock.GetUtcNow(), ct);

    /// <summary>Creates the missing partitions of the window at <paramref name="now"/>; returns how many it created.</summary>
    public async Task<int> EnsureWindowAsync(DateTimeOffset now, CancellationToken ct)
    {
        int longest;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            longest = await LongestRawRetentionAsync(connection, null, ct);
        }

        var (from, to) = Window(now, longest);
        var created = await partitions.EnsureAsync(dataSource, from, to, ct);
        if (created > 0)
        {
            logger.LogInformation("Created {Created} daily partitions of llm_requests; {From} to {To} exist", created, from, to);
        }

        return created;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The start-up sequence ran the first pass; this keeps the window moving with the days and with retention changes.
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.TickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Ingest creates a missing day on the request's own connection meanwhile; the next pass tries again.
                logger.LogWarning("Partition maintenance failed, retried in {Interval}: {Error}", Interval, e.Message);
            }
        }
    }
}
