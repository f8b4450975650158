using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Infrastructure.Database;

/// <summary>The one database: Identity's user tables and Opsmeter's own, all snake_case.</summary>
internal sealed class OpsmeterDbContext(DbContextOptions<OpsmeterDbContext> options)
    : IdentityUserContext<OpsmeterUser, Guid>(options)
{
    public DbSet<Workspace> Workspaces => Set<Workspace>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<ModelPrice> ModelPrices => Set<ModelPrice>();
    public DbSet<LlmRequest> LlmRequests => Set<LlmRequest>();
    public DbSet<WorkspaceMember> WorkspaceMembers => Set<WorkspaceMember>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // Identity names its tables AspNet*; the naming convention leaves explicit names alone.
        modelBuilder.Entity<OpsmeterUser>().ToTable("users");
        modelBuilder.Entity<IdentityUserClaim<Guid>>().ToTable("user_claims");
        modelBuilder.Entity<IdentityUserLogin<Guid>>().ToTable("user_logins");
        modelBuilder.Entity<IdentityUserToken<Guid>>().ToTable("user_tokens");
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(OpsmeterDbContext).Assembly);
    }
}
