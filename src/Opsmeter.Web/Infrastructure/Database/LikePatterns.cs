namespace Opsmeter.Web.Infrastructure.Database;

internal static class LikePatterns
{
    /// <summary>A LIKE/ILIKE pattern matching values that contain <paramref name="text"/> as typed (its % _ and \ escaped).</summary>
    public static string Containing(string text) => "%" + text.Trim().Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
}
