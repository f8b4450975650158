using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Instance;

/// <summary>Why a name cannot be given: <see cref="Taken"/> when another workspace has it, else it is empty or too long.</summary>
internal sealed record NameProblem(string Message, bool Taken = false);

/// <summary>
/// A workspace's name: required, trimmed, at most 128 characters, and unique without regard to case ("Acme" and "acme"
/// would be two entries of one switcher that nobody can tell apart). The unique indexes on the name (as written, and
/// lower-cased) are the last word when
/// two people take the same name at the same moment: <see cref="IsTaken(DbUpdateException)"/> recognises its refusal.
/// </summary>
internal static class WorkspaceNames
{
    public const int MaxLength = 128;
    private const string UniqueIndex = "ix_workspaces_name";

    /// <summary>The same rule without regard to case (migration WorkspaceNamesUniqueIgnoringCase).</summary>
    private const string UniqueIgnoringCase = "ux_workspaces_lower_name";

    /// <summary>The name to store (trimmed), or why <paramref name="name"/> cannot be one.</summary>
    public static async Task<(string Name, NameProblem? Problem)> CheckAsync(OpsmeterDbContext db, string? name, Guid? exceptWorkspaceId, CancellationToken ct)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            return (trimmed, new("Give the workspace a name."));
        }

        if (trimmed.Length > MaxLength)
        {
            return (trimmed, new($"A workspace's name has at most {MaxLength} characters."));
        }

        var lower = trimmed.ToLowerInvariant();
#pragma warning disable CA1862 // EF translates ToLower to SQL lower(); string.Equals with a comparison has no translation
        var existing = await db.Workspaces.AsNoTracking()
            .Where(w => w.Name.ToLower() == lower && w.Id != exceptWorkspaceId)
            .Select(w => w.Name).FirstOrDefaultAsync(ct);
#pragma warning restore CA1862
        return (trimmed, existing is null ? null : Taken(existing));
    }

    public static NameProblem Taken(string name) => new($"A workspace named \"{name}\" exists. Choose another name.", Taken: true);

    /// <summary>Whether the database refused a save because another workspace has the name (the race the check above cannot close).</summary>
    public static bool IsTaken(DbUpdateException e) =>
        e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: UniqueIndex or UniqueIgnoringCase };
}
