using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Invitations;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Infrastructure.Database;

/// <summary>
/// The one database: Identity's user tables, the Data Protection key ring (so sign-in cookies and webhook
/// secrets survive restarts and work across servers) and Opsmeter's own tables, all snake_case.
/// Hangfire keeps its tables in the "hangfire" schema of the same database.
/// </summary>
internal sealed class OpsmeterDbContext(DbContextOptions<OpsmeterDbContext> options)
    : IdentityUserContext<OpsmeterUser, Guid>(options), IDataProtectionKeyContext
{
    public DbSet<Workspace> Workspaces => Set<Workspace>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<ModelPrice> ModelPrices => Set<ModelPrice>();
    public DbSet<LlmRequest> LlmRequests => Set<LlmRequest>();
    public DbSet<IngestKey> IngestKeys => Set<IngestKey>();
    public DbSet<WorkspaceMember> WorkspaceMembers => Set<WorkspaceMember>();
    public DbSet<Budget> Budgets => Set<Budget>();
    public DbSet<Incident> Incidents => Set<Incident>();
    public DbSet<WebhookChannel> WebhookChannels => Set<WebhookChannel>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<Invitation> Invitations => Set<Invitation>();
    public DbSet<InstanceSetting> InstanceSettings => Set<InstanceSetting>();

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
