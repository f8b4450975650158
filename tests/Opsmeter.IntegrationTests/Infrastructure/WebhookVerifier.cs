using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>
/// What a receiver does with <c>X-Opsmeter-Signature: t=…,v1=…</c>, as the README tells it, written out here rather than
/// calling the app's code: recompute HMAC-SHA256("t.body") under the secret, compare in constant time, and refuse a
/// timestamp more than 5 minutes from now.
/// </summary>
internal static class WebhookVerifier
{
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static bool Verify(string secret, string header, string body, DateTimeOffset now)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToLookup(p => p[0].Trim(), p => p[1].Trim());
        if (!long.TryParse(parts["t"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var t)
            || (now - DateTimeOffset.FromUnixTimeSeconds(t)).Duration() > Tolerance)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return parts["v1"].Any(v => v.Length == expected.Length * 2
            && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(v), expected));
    }

    /// <summary>The header's signature with another timestamp, as a replay with a forged <c>t</c> would carry.</summary>
    public static string WithTimestamp(string header, long t) =>
        string.Join(',', header.Split(',').Select(p => p.StartsWith("t=", StringComparison.Ordinal) ? $"t={t}" : p));
}
