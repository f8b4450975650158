using System.Globalization;

namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>How the dashboard writes figures: USD with the precision small amounts need, counts with separators.</summary>
internal static class Format
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>Dollars and cents from $1; four decimals below; six below a cent, where single calls live.</summary>
    public static string Usd(decimal value) => Math.Abs(value) switch
    {
        0m => "$0",
        < 0.01m => "$" + value.ToString("0.000000", Culture),
        < 1m => "$" + value.ToString("0.0000", Culture),
        _ => "$" + value.ToString("#,##0.00", Culture),
    };

    public static string Count(long value) => value.ToString("#,##0", Culture);

    public static string Ms(double? value) => value is { } v ? v.ToString("#,##0", Culture) + " ms" : "–";

    public static string Percent(double value) => value.ToString("0.0%", Culture);

    /// <summary>"+12.5%" against the previous period, or "new" when there was nothing before.</summary>
    public static string Change(decimal current, decimal previous) =>
        previous == 0 ? (current == 0 ? "±0%" : "new") : ((double)((current - previous) / previous)).ToString("+0.0%;-0.0%;±0%", Culture);
}
