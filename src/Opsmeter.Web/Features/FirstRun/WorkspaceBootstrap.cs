using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.FirstRun;

/// <summary>
/// Creates the bootstrap workspace, its owner account and the bootstrap API key, each only if absent. The workspace is
/// made only when the settings put something in it (an owner or a key): a server started with nothing configured has no
/// workspace until someone claims it at <c>/setup</c>.
/// </summary>
internal sealed class WorkspaceBootstrap(OpsmeterDbContext db, TimeProvider clock, IOptions<BootstrapOptions> options,
    UserManager<OpsmeterUser> users, AuditLog audit, ILogger<WorkspaceBootstrap> logger)
{
    private const string Actor = "system (bootstrap settings)";

    public async Task RunAsync(CancellationToken ct)
    {
        var settings = options.Value;
        var wantsOwner = settings.AdminEmail is not null && settings.AdminPassword is not null;
        if (!wantsOwner && settings.ApiKey is null)
        {
            return;
        }

        var (workspace, isNew) = await CreateWorkspace.FindOrCreateAsync(db, clock, settings.Workspace, ct);
        if (isNew)
        {
            audit.Add(null, AuditActions.WorkspaceCreated, $"{workspace.Name} ({workspace.Id})", actor: Actor);
            await db.SaveChangesAsync(ct);
            logger.LogInformation("Created workspace {WorkspaceName} ({WorkspaceId})", workspace.Name, workspace.Id);
        }

        if (settings.AdminEmail is { } email && settings.AdminPassword is { } password && await users.FindByEmailAsync(email) is null)
        {
            var created = await CreateOwner.HandleAsync(users, db, clock, email, password, workspace.Id);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException(
                    $"Opsmeter__Bootstrap__AdminPassword was refused: {string.Join(" ", created.Errors.Select(e => e.Description))}");
            }

            logger.LogInformation("Created the owner account of workspace {WorkspaceName}", workspace.Name);
        }

        if (settings.ApiKey is { } key)
        {
            var hash = ApiKeySecrets.Hash(key);
            if (!await db.ApiKeys.AnyAsync(k => k.KeyHash == hash, ct))
            {
                var prefix = ApiKeySecrets.DisplayPrefix(key);
                db.ApiKeys.Add(new ApiKey
                {
                    WorkspaceId = workspace.Id,
                    Id = Guid.CreateVersion7(clock.GetUtcNow()),
                    Name = "bootstrap",
                    Prefix = prefix,
                    KeyHash = hash,
                    Scopes = ApiKeyScopes.All,
                    CreatedAt = clock.GetUtcNow(),
                });
                audit.Add(workspace.Id, AuditActions.KeyCreated, $"bootstrap ({prefix})", after: string.Join(", ", ApiKeyScopes.All), actor: Actor);
                await db.SaveChangesAsync(ct);
                logger.LogInformation("Registered the bootstrap API key {KeyPrefix} for workspace {WorkspaceName}", prefix, workspace.Name);
            }
        }
    }
}
