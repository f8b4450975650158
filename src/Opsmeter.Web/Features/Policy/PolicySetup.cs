using Opsmeter.Web.Infrastructure.Hosting;

namespace Opsmeter.Web.Features.Policy;

internal static class PolicySetup
{
    /// <summary>The policy: every workspace's budgets in memory (loaded by the start-up sequence), with its refresh loop.</summary>
    public static IHostApplicationBuilder AddPolicy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<PolicyOptions>().BindConfiguration(PolicyOptions.Section).ValidateDataAnnotations();
        builder.Services.AddSingleton<PolicySnapshot>();
        builder.AddBackgroundLoop<PolicySnapshot>();
        return builder;
    }
}
