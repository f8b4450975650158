using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.Policy;

internal sealed class PolicyOptions
{
    public const string Section = "Opsmeter:Policy";
    public const int DefaultRefreshSeconds = 15;

    /// <summary>
    /// Seconds between reloads of every workspace's budgets and their evaluated spend: how long a node that did not run an
    /// evaluation (or a change) itself may answer <c>/v1/policy</c> from the previous one. Also the answer's <c>ttlSeconds</c>.
    /// </summary>
    [Range(1, 3600)]
    public int RefreshSeconds { get; set; } = DefaultRefreshSeconds;
}
