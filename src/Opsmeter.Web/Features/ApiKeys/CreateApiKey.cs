using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>Creates a key for a workspace and returns the secret, which is never stored and never shown again.</summary>
internal static class CreateApiKey
{
    public sealed record Created(string Key, string Prefix, Guid WorkspaceId, string[] Scopes, Guid Id, string Name);

    /// <summary>
    /// Stores the key (its hash) and its <see cref="AuditActions.KeyCreated"/> entry in one SaveChanges. <paramref name="audit"/>
    /// must write to <paramref name="db"/> (both from one scope); <paramref name="actor"/> null means the request's caller.
    /// </summary>
    public static async Task<Created> HandleAsync(OpsmeterDbContext db, AuditLog audit, TimeProvider clock, Guid workspaceId,
        string name, IReadOnlyCollection<string> scopes, string? actor, CancellationToken ct)
    {
        var unknown = scopes.Except(ApiKeyScopes.All).ToList();
        if (unknown.Count > 0 || scopes.Count == 0)
        {
            throw new ArgumentException($"Scopes must be some of {string.Join(", ", ApiKeyScopes.All)}; got '{string.Join(",", scopes)}'.");
        }

        var (key, prefix) = ApiKeySecrets.Generate();
        var stored = new ApiKey
        {
            WorkspaceId = workspaceId,
            Id = Guid.CreateVersion7(clock.GetUtcNow()),
            Name = name,
            Prefix = prefix,
            KeyHash = ApiKeySecrets.Hash(key),
            Scopes = [.. scopes.Distinct()],
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiKeys.Add(stored);
        audit.Add(workspaceId, AuditActions.KeyCreated, Describe(stored), after: string.Join(", ", stored.Scopes), actor: actor);
        await db.SaveChangesAsync(ct);
        return new Created(key, prefix, workspaceId, stored.Scopes, stored.Id, stored.Name);
    }

    /// <summary>A key as the audit log names it: "support-bot (om_ab12cd34)".</summary>
    internal static string Describe(ApiKey key) => $"{key.Name} ({key.Prefix})";

    public static Task<Workspace?> FindWorkspaceAsync(OpsmeterDbContext db, string nameOrId, CancellationToken ct) =>
        Guid.TryParse(nameOrId, out var id)
            ? db.Workspaces.FirstOrDefaultAsync(w => w.Id == id, ct)
            : db.Workspaces.FirstOrDefaultAsync(w => w.Name == nameOrId, ct);
}
