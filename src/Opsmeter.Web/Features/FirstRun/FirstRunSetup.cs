namespace Opsmeter.Web.Features.FirstRun;

internal static class FirstRunSetup
{
    /// <summary>First run and automation: the bootstrap settings and what the start-up sequence creates from them.</summary>
    public static IHostApplicationBuilder AddFirstRun(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section).ValidateDataAnnotations();
        builder.Services.AddScoped<WorkspaceBootstrap>();
        return builder;
    }
}
