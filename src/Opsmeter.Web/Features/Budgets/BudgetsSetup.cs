using Opsmeter.Web.Infrastructure.Hosting;

namespace Opsmeter.Web.Features.Budgets;

internal static class BudgetsSetup
{
    /// <summary>Budgets and the policy: the evaluation job and the in-memory policy snapshot with its refresh loop.</summary>
    public static IHostApplicationBuilder AddBudgets(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<EvaluateBudgetsJob>();
        builder.Services.AddSingleton<PolicySnapshot>();
        builder.AddBackgroundLoop<PolicySnapshot>();
        return builder;
    }
}
