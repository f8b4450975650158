using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.IntegrationTests.Features.Budgets;

[Collection(SharedApp.Name)]
public sealed class EvaluationQueueTests(OpsmeterApp app)
{
    [Fact]
    public void Budget_evaluation_runs_on_a_queue_of_its_own_that_deliveries_cannot_fill()
    {
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();

        var evaluation = Assert.Single(connection.GetRecurringJobs(), j => j.Id == EvaluateBudgetsJob.RecurringId);

        // Since Hangfire 1.8 the queue belongs to the job the schedule enqueues (RecurringJobDto.Queue is a leftover field).
        Assert.Equal(JobsSetup.BudgetsQueue, evaluation.Job.Queue);
    }
}
