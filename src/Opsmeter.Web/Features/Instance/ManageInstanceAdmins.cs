using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Instance;

internal sealed record InstanceAdminRow(Guid UserId, string Email);

/// <summary>
/// Instance administrators grant and revoke the role to existing accounts, each change in the instance's audit log. The
/// instance always keeps one: a revocation locks every administrator's row first, so two at the same moment cannot
/// remove the last two.
/// </summary>
internal static class ManageInstanceAdmins
{
    public static Task<List<InstanceAdminRow>> ListAsync(OpsmeterDbContext db, CancellationToken ct) =>
        db.Users.AsNoTracking().Where(u => u.IsInstanceAdmin).OrderBy(u => u.Email)
            .Select(u => new InstanceAdminRow(u.Id, u.Email!)).ToListAsync(ct);

    /// <summary>Returns why not, or null when done (or when the account already was one).</summary>
    /// <summary>The longest email an account can have (ASP.NET Core Identity's column).</summary>
    private const int MaxEmailLength = 256;

    public static async Task<string?> GrantAsync(OpsmeterDbContext db, AuditLog audit, string? email, CancellationToken ct)
    {
        var normalized = email?.Trim().ToUpperInvariant() ?? "";
        // The answer names the email, and it travels in the flash message's cookie: an email no account can have is
        // refused without repeating it (a 1 MB one made a response no browser accepts).
        if (normalized.Length is 0 or > MaxEmailLength)
        {
            return $"Enter the email of an existing account (up to {MaxEmailLength} characters).";
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        if (user is null)
        {
            return $"There is no account with the email \"{email?.Trim()}\". Add the person to a workspace first.";
        }

        if (!user.IsInstanceAdmin)
        {
            user.IsInstanceAdmin = true;
            audit.Add(null, AuditActions.InstanceAdminGranted, $"{user.Email} ({user.Id})");
            await db.SaveChangesAsync(ct);
        }

        return null;
    }

    public static async Task<string?> RevokeAsync(OpsmeterDbContext db, AuditLog audit, Guid userId, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var admins = await db.Users.FromSql($"SELECT * FROM users WHERE is_instance_admin FOR UPDATE").ToListAsync(ct);
        if (admins.SingleOrDefault(u => u.Id == userId) is not { } user)
        {
            return null;
        }

        if (admins.Count == 1)
        {
            return $"{user.Email} is the instance's only administrator: grant the role to someone else first.";
        }

        user.IsInstanceAdmin = false;
        audit.Add(null, AuditActions.InstanceAdminRevoked, $"{user.Email} ({user.Id})");
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return null;
    }
}
