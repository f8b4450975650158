using System.Security.Cryptography;
using System.Text;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>
/// Key material. A generated key reads <c>om_&lt;8-char id&gt;_&lt;32-char secret&gt;</c>: the part before the
/// second underscore is the non-secret prefix shown in lists and logs; the secret carries 190 bits.
/// Keys are stored only as SHA-256 hashes: a key is random and long, so a slow password hash would
/// add latency to every request without adding safety.
/// </summary>
internal static class ApiKeySecrets
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public static (string Key, string Prefix) Generate()
    {
        var prefix = "om_" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 8);
        return ($"{prefix}_{RandomNumberGenerator.GetString(Alphabet, 32)}", prefix);
    }

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A display prefix for a key chosen by an operator (the bootstrap key): never more than a few characters of it.</summary>
    public static string DisplayPrefix(string key) =>
        key.StartsWith("om_", StringComparison.Ordinal) && key.IndexOf('_', 3) is > 3 and var end
            ? key[..end]
            : key[..Math.Min(4, key.Length / 4)] + "…";
}
