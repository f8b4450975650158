using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Workspaces;

/// <summary>A workspace by name: the existing one, or a new one (first run, the bootstrap settings).</summary>
internal static class CreateWorkspace
{
    public static async Task<(Workspace Workspace, bool Created)> FindOrCreateAsync(OpsmeterDbContext db, TimeProvider clock, string name,
        CancellationToken ct)
    {
        if (await db.Workspaces.FirstOrDefaultAsync(w => w.Name == name, ct) is { } existing)
        {
            return (existing, false);
        }

        var workspace = new Workspace { Id = Guid.CreateVersion7(clock.GetUtcNow()), Name = name, CreatedAt = clock.GetUtcNow() };
        db.Workspaces.Add(workspace);
        await db.SaveChangesAsync(ct);
        return (workspace, true);
    }
}
