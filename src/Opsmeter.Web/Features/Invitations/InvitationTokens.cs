using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Opsmeter.Web.Features.Invitations;

/// <summary>
/// The secret of an invitation link: 256 random bits, base64url (43 characters, safe in a path). Only its SHA-256 hash is
/// stored; like an API key it is random and long, so a slow password hash would add nothing.
/// </summary>
internal static class InvitationTokens
{
    public static string Generate() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
