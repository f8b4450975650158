using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Opsmeter.Web.Features.Quota;

/// <summary>
/// The 402 of ingest once a workspace's monthly request quota is used up: problem details that also carry the
/// Opsmeter.io fields clients read (<c>reason</c>, <c>telemetryPaused</c>, <c>isPlanLimitReached</c>,
/// <c>providerCallsContinue</c>). Nothing of the request is stored.
/// </summary>
internal static class PlanLimitReached
{
    public const string Reason = "plan_limit_reached";

    public static ProblemHttpResult Problem(QuotaUsage usage) => TypedResults.Problem(
        statusCode: StatusCodes.Status402PaymentRequired,
        title: "The workspace's monthly request quota is used up.",
        detail: string.Create(CultureInfo.InvariantCulture, $"{usage.Used} of {usage.Limit} requests this UTC month; nothing of this request was stored.")
            + string.Create(CultureInfo.InvariantCulture, $" Ingest resumes on {usage.Month.End.UtcDateTime:yyyy-MM-dd} 00:00 UTC, or sooner if an instance")
            + " administrator raises the quota. Your LLM calls are not affected.",
        extensions: new Dictionary<string, object?>
        {
            ["reason"] = Reason,
            ["telemetryPaused"] = true,
            ["isPlanLimitReached"] = true,
            ["providerCallsContinue"] = true,
            ["planRequestLimit"] = usage.Limit,
            ["currentRequestCount"] = usage.Used,
            ["periodEnd"] = usage.Month.End,
        });
}
