namespace Opsmeter.Web.Features.Instance;

internal static class InstanceSetup
{
    /// <summary>What instance administrators manage: workspaces (who may create them) and the instance administrators.</summary>
    public static IHostApplicationBuilder AddInstance(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WorkspaceOptions>().BindConfiguration(WorkspaceOptions.Section);
        return builder;
    }
}
