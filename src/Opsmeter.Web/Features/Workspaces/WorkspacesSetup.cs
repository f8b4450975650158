using Opsmeter.Web.Infrastructure.Hosting;

namespace Opsmeter.Web.Features.Workspaces;

internal static class WorkspacesSetup
{
    /// <summary>Workspaces and API keys: the bootstrap settings, the key cache and the key last-use writer.</summary>
    public static IHostApplicationBuilder AddWorkspaces(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section).ValidateDataAnnotations();
        builder.Services.AddScoped<WorkspaceBootstrap>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ApiKeyUsage>();
        builder.AddBackgroundLoop<ApiKeyUsage>();
        return builder;
    }
}
