namespace Opsmeter.Web.Features.Audit;

internal static class AuditSetup
{
    /// <summary>The append-only audit log: written with each change, read on the dashboard's Audit page.</summary>
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<AuditLog>();
        return builder;
    }
}
