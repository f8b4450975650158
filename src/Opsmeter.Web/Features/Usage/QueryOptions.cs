using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.Usage;

/// <summary>
/// The bounds on reading usage (<c>Opsmeter:Queries</c>): how long a range one request may read, how many groups one answer
/// holds, and how long a CSV download may take. /v1 refuses a longer range with 400; the dashboard shortens it and says so.
/// </summary>
internal sealed class QueryOptions
{
    public const string Section = "Opsmeter:Queries";

    /// <summary>The longest range one request reads; the default is the daily rollups' default retention.</summary>
    [Range(1, 3660)]
    public int MaxRangeDays { get; set; } = 400;

    /// <summary>Most rows a grouped answer (metrics, compare, a breakdown page) holds; beyond it the answer says <c>truncated</c>.</summary>
    [Range(1, 100_000)]
    public int MaxGroups { get; set; } = 1000;

    /// <summary>The longest a CSV download may take, reading included: past it the download ends unfinished and its connection is freed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ExportTimeout { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan MaxRange => TimeSpan.FromDays(MaxRangeDays);
}
