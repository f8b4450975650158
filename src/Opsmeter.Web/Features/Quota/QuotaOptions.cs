using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.Quota;

/// <summary>
/// <c>Opsmeter:Quota</c>: the monthly request quota of every workspace that has none of its own. Unset (the default), a
/// workspace without its own quota has none.
/// </summary>
internal sealed class QuotaOptions
{
    public const string Section = "Opsmeter:Quota";

    /// <summary>Events a workspace may store per UTC calendar month; past it ingest answers 402. Null: no quota.</summary>
    [Range(1, long.MaxValue)]
    public long? DefaultMonthlyRequests { get; set; }
}
