using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Infrastructure.Database;

internal sealed class OpsmeterDbContext(DbContextOptions<OpsmeterDbContext> options) : DbContext(options)
{
    public DbSet<Workspace> Workspaces => Set<Workspace>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<ModelPrice> ModelPrices => Set<ModelPrice>();
    public DbSet<LlmRequest> LlmRequests => Set<LlmRequest>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(OpsmeterDbContext).Assembly);
}
