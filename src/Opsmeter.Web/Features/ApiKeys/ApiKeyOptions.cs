using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.ApiKeys;

internal sealed class ApiKeyOptions
{
    public const string Section = "Opsmeter:ApiKeys";

    /// <summary>
    /// Seconds a key's answer (also "no such key") is kept in memory. A key revoked on one node is refused there at once
    /// and on the other nodes of the same database within this long (docs/scaling.md).
    /// </summary>
    [Range(1, 3600)]
    public int CacheSeconds { get; set; } = 30;
}
