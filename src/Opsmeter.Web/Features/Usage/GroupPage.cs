using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Opsmeter.Web.Features.Usage;

/// <summary>
/// Which groups of a grouped answer to read: those whose key contains <paramref name="Search"/> (in any case), and only
/// those after <paramref name="After"/> in the answer's order (by spend, then key; by key for day and hour).
/// </summary>
public sealed record GroupPage(string? Search = null, GroupCursor? After = null)
{
    /// <summary>The longest search: a dimension value is at most 128 characters, so a longer one can match nothing.</summary>
    public const int MaxSearchLength = 256;
}

/// <summary>Where a page of groups ended: its last row's spend and key. Sent to clients as an opaque string.</summary>
public sealed record GroupCursor(decimal CostUsd, string Key)
{
    public static GroupCursor After(UsageRow row) => new(row.CostUsd, row.Key);

    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{CostUsd}|{Key}")));

    /// <summary>The cursor in <paramref name="text"/>, or null when it is not one that <see cref="Encode"/> made.</summary>
    public static GroupCursor? Decode(string text)
    {
        try
        {
            var decoded = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text));
            var bar = decoded.IndexOf('|', StringComparison.Ordinal);
            return bar > 0 && decimal.TryParse(decoded.AsSpan(0, bar), NumberStyles.Number, CultureInfo.InvariantCulture, out var cost)
                && !decoded.Contains('\0', StringComparison.Ordinal)
                ? new GroupCursor(cost, decoded[(bar + 1)..])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
