namespace Opsmeter.Web.Features.Pricing;

internal static class Money
{
    /// <summary>Drops trailing zeros (0.0000465000 → 0.0000465) so JSON shows the amount, not the column's scale.</summary>
    public static decimal Normalize(decimal value) => value / 1.0000000000000000000000000000m;

    public static decimal? Normalize(decimal? value) => value is { } v ? Normalize(v) : null;
}
