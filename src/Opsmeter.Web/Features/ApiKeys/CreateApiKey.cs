using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>Creates a key for a workspace and returns the secret, which is never stored and never shown again.</summary>
internal static class CreateApiKey
{
    public sealed record Created(string Key, string Prefix, Guid WorkspaceId, string[] Scopes);

    public static async Task<Created> HandleAsync(OpsmeterDbContext db, TimeProvider clock, Guid workspaceId,
        string name, IReadOnlyCollection<string> scopes, CancellationToken ct)
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
        await db.SaveChangesAsync(ct);
        return new Created(key, prefix, workspaceId, stored.Scopes);
    }

    public static Task<Workspace?> FindWorkspaceAsync(OpsmeterDbContext db, string nameOrId, CancellationToken ct) =>
        Guid.TryParse(nameOrId, out var id)
            ? db.Workspaces.FirstOrDefaultAsync(w => w.Id == id, ct)
            : db.Workspaces.FirstOrDefaultAsync(w => w.Name == nameOrId, ct);
}
