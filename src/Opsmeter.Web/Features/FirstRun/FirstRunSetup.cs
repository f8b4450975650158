namespace Opsmeter.Web.Features.FirstRun;

internal static class FirstRunSetup
{
    /// <summary>First run and automation: the bootstrap settings and what the start-up sequence creates from them.</summary>
    public static IHostApplicationBuilder AddFirstRun(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section)
            // An empty variable (compose's ${OPSMETER_BOOTSTRAP_API_KEY:-}) means "not set", not a 0-character key.
            .PostConfigure(o =>
            {
                o.AdminEmail = string.IsNullOrWhiteSpace(o.AdminEmail) ? null : o.AdminEmail;
                o.AdminPassword = string.IsNullOrEmpty(o.AdminPassword) ? null : o.AdminPassword;
                o.ApiKey = string.IsNullOrWhiteSpace(o.ApiKey) ? null : o.ApiKey;
            })
            .ValidateDataAnnotations();
        builder.Services.AddScoped<WorkspaceBootstrap>();
        builder.Services.AddScoped<SetupToken>();
        builder.Services.AddScoped<ClaimInstance>();
        return builder;
    }
}
