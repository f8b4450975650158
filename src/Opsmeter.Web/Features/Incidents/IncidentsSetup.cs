using Opsmeter.Web.Features.Budgets;

namespace Opsmeter.Web.Features.Incidents;

internal static class IncidentsSetup
{
    /// <summary>Incidents: the budget evaluation (the recurring job, and what follows a budget's change) and their notifier.</summary>
    public static IHostApplicationBuilder AddIncidents(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<EvaluationOptions>().BindConfiguration(EvaluationOptions.Section).ValidateDataAnnotations();
        builder.Services.AddScoped<EvaluateBudgetsJob>();
        builder.Services.AddScoped<IBudgetChangeHandler>(sp => sp.GetRequiredService<EvaluateBudgetsJob>());
        builder.Services.AddScoped<IncidentNotifier>();
        return builder;
    }
}
