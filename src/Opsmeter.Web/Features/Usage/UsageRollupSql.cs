using System.Globalization;
using Opsmeter.Web.Features.Events;

namespace Opsmeter.Web.Features.Usage;

/// <summary>The SQL pieces that the rollup worker and the usage queries share, so both read and write the same shape.</summary>
internal static class UsageRollupSql
{
    /// <summary>Upper bounds of the latency buckets lat_00..lat_14; lat_15 holds everything above the last.</summary>
    public static readonly int[] LatencyBoundsMs = [50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000, 60000];

    public static readonly string[] Buckets = [.. Enumerable.Range(0, LatencyBoundsMs.Length + 1).Select(i => $"lat_{i:00}")];

    /// <summary>Dimensions with so many values that hourly rows would be as many as the events: rolled up by day, week and month, never by hour.</summary>
    public static readonly string[] DailyOnly = [.. Dimensions.ManyValued.Select(d => d.Name)];

    public const string Measures = "requests, errors, input_tokens, output_tokens, cost_usd, unpriced, latency_count, latency_sum_ms";

    public static string BucketColumns => string.Join(", ", Buckets);

    private static string BoundsArray => "ARRAY[" + string.Join(",", LatencyBoundsMs.Select(b => b.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>
    /// Per-row measures of raw events (alias <c>r</c>, joined with <see cref="RawBucketJoin"/>), in the column order of
    /// <see cref="Measures"/> and <see cref="Buckets"/>, for summing with rollup rows.
    /// </summary>
    public static readonly string RawMeasures = string.Join(", ", RawColumns);

    /// <summary><see cref="RawMeasures"/> negated, for events to subtract from a rollup row.</summary>
    public static readonly string NegatedRawMeasures = string.Join(", ", RawColumns.Select(c => $"-({c})"));

    private static IEnumerable<string> RawColumns => RawRowMeasures.Concat(Buckets.Select((_, i) => $"(lb.lat_bucket = {i})::int"));

    private static string[] RawRowMeasures =>
    [
        "1", "(r.status = 'error')::int", "r.input_tokens", "r.output_tokens", "r.cost_usd", "(r.cost_status = 'unpriced')::int",
        "(r.latency_ms IS NOT NULL)::int", "coalesce(r.latency_ms, 0)",
    ];

    /// <summary>Finds a raw row's latency bucket once, not once per bucket column.</summary>
    public static string RawBucketJoin => $"CROSS JOIN LATERAL (SELECT width_bucket(r.latency_ms, {BoundsArray}) AS lat_bucket) AS lb";

    /// <summary>
    /// The measures of one raw event (alias <c>r</c>), computed once per event for the fold: the latency bucket
    /// (<c>lat_bucket</c>, null without a latency) is found once here instead of once per bucket column and dimension.
    /// </summary>
    public static string EventMeasures =>
        "(r.status = 'error')::int AS errors, r.input_tokens, r.output_tokens, r.cost_usd, (r.cost_status = 'unpriced')::int AS unpriced, " +
        "(r.latency_ms IS NOT NULL)::int AS latency_count, coalesce(r.latency_ms, 0) AS latency_sum_ms, " +
        $"width_bucket(r.latency_ms, {BoundsArray}) AS lat_bucket";

    /// <summary>Sums of <see cref="EventMeasures"/> over a group, named and ordered as <see cref="Measures"/> and <see cref="Buckets"/>.</summary>
    public static string EventAggregates => "count(*) AS requests, " + string.Join(", ",
        Measures.Split(", ").Skip(1).Select(m => $"sum({m})::{(m == "cost_usd" ? "numeric" : "bigint")} AS {m}")
            .Concat(Buckets.Select((b, i) => $"count(*) FILTER (WHERE lat_bucket = {i}) AS {b}")));

    /// <summary>Sums of already aggregated rows (hourly into daily), named as the columns.</summary>
    public static string ColumnSums => string.Join(", ",
        Measures.Split(", ").Concat(Buckets).Select(c => $"sum({c})::{(c == "cost_usd" ? "numeric" : "bigint")} AS {c}"));

    /// <summary>The approximate p95 from bucket counts: linear within the bucket that holds the 95th percentile.</summary>
    public static double? P95(long[] bucketCounts)
    {
        var total = bucketCounts.Sum();
        if (total == 0)
        {
            return null;
        }

        var rank = 0.95 * total;
        long seen = 0;
        for (var i = 0; i < bucketCounts.Length; i++)
        {
            if (seen + bucketCounts[i] >= rank)
            {
                double lower = i == 0 ? 0 : LatencyBoundsMs[i - 1];
                double upper = i < LatencyBoundsMs.Length ? LatencyBoundsMs[i] : lower * 2;
                return Math.Round(lower + ((upper - lower) * (rank - seen) / bucketCounts[i]), 1);
            }

            seen += bucketCounts[i];
        }

        return LatencyBoundsMs[^1];
    }
}
