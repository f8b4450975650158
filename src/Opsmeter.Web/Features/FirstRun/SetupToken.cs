using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.FirstRun;

/// <summary>
/// The one-time first-run token. While no account exists, start-up makes one (once for all nodes), keeps it in
/// <c>instance_settings</c> protected by Data Protection (never in clear), and prints it in the log; the CLI's
/// <c>setup-token</c> shows it again. <c>/setup</c> asks for it unless the request comes from this machine, and the
/// claim deletes it.
/// </summary>
internal sealed class SetupToken(OpsmeterDbContext db, IDataProtectionProvider protection)
{
    public const string SettingKey = "setup_token";

    // Crockford's base32 (no I, L, O or U to misread): 25 characters carry 125 bits.
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private IDataProtector Protector => protection.CreateProtector("Opsmeter.FirstRun.SetupToken");

    /// <summary>The token while the instance is unclaimed (made now if there is none yet); null once an account exists.</summary>
    public async Task<string?> EnsureAsync(CancellationToken ct)
    {
        if (await db.Users.AnyAsync(ct))
        {
            // Claimed (by /setup, or by the bootstrap settings): a token left over from before is of no use to anyone.
            await db.InstanceSettings.Where(s => s.Key == SettingKey).ExecuteDeleteAsync(ct);
            return null;
        }

        if (await ReadAsync(ct) is { } existing)
        {
            return existing;
        }

        // Two nodes starting together: the first insert wins and both print the same token.
        var token = Generate();
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO instance_settings (key, value) VALUES ({SettingKey}, {Protector.Protect(token)}) ON CONFLICT (key) DO NOTHING", ct);
        return await ReadAsync(ct);
    }

    public async Task<string?> ReadAsync(CancellationToken ct)
    {
        var row = await db.InstanceSettings.AsNoTracking().FirstOrDefaultAsync(s => s.Key == SettingKey, ct);
        return row is null ? null : Protector.Unprotect(row.Value);
    }

    /// <summary>Whether <paramref name="presented"/> is the token (spaces, dashes and case do not matter), compared in constant time.</summary>
    public async Task<bool> MatchesAsync(string? presented, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(presented) || await ReadAsync(ct) is not { } token)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Normalize(token)), Encoding.ASCII.GetBytes(Normalize(presented)));
    }

    /// <summary>Drops the token in the claim's transaction: it opens the door once.</summary>
    public Task DeleteAsync(CancellationToken ct) => db.InstanceSettings.Where(s => s.Key == SettingKey).ExecuteDeleteAsync(ct);

    /// <summary>
    /// A request from this machine needs no token: whoever can open a browser here can read the log too. A request that
    /// came through a proxy (it says so in <c>X-Forwarded-For</c> or <c>Forwarded</c>) is not from this machine, whatever
    /// address the proxy connects from.
    /// </summary>
    public static bool IsFromThisMachine(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
        && !ProxyHeaders.Any(http.Request.Headers.ContainsKey);

    /// <summary>
    /// A request that came through a proxy, even one on this machine: the forwarded headers as sent, and the X-Original-*
    /// copies the forwarded-headers middleware leaves when it consumes them from a known proxy.
    /// </summary>
    private static readonly string[] ProxyHeaders =
        ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "X-Original-For", "X-Original-Proto", "X-Original-Host"];

    private static string Generate()
    {
        var raw = RandomNumberGenerator.GetString(Alphabet, 25);
        return string.Join('-', raw.Chunk(5).Select(c => new string(c)));
    }

    private static string Normalize(string token) =>
        new([.. token.Where(char.IsAsciiLetterOrDigit).Select(char.ToUpperInvariant)]);
}
