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
    public static bool Verify(string secret, string header, string body, DateTimeOffset now) =>
        Verify(secret, header, Encoding.UTF8.GetBytes(body), now);

    /// <summary>The README's C# snippet, word for word.</summary>
    private static bool Verify(string secret, string header, byte[] body, DateTimeOffset now)
    {
        var fields = header.Split(',').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToLookup(f => f[0], f => f[1]);
        if (!long.TryParse(fields["t"].FirstOrDefault(), out var t) || Math.Abs(now.ToUnixTimeSeconds() - t) > 300)
        {
            return false;
        }

        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.").Concat(body).ToArray());
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac));
        return fields["v1"].Any(v => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(v), expected));
    }

    /// <summary>The header's signature with another timestamp, as a replay with a forged <c>t</c> would carry.</summary>
    public static string WithTimestamp(string header, long t) =>
        string.Join(',', header.Split(',').Select(p => p.StartsWith("t=", StringComparison.Ordinal) ? $"t={t}" : p));
}
