using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Budgets;

[Collection(SharedApp.Name)]
public sealed class IncidentTests(OpsmeterApp app)
{
    [Fact]
    public async Task Thresholds_open_one_incident_each_at_the_crossing_event_and_the_limit_escalates_the_last()
    {
        var ws = await app.CreateWorkspaceAsync();
        var day = PastDay();
        var at = day.AddHours(12);
        var id = await CreateBudgetAsync(ws, """{"name":"daily","period":"daily","limitUsd":10,"warningThresholds":[0.5,0.8]}""");

        await IngestCostAsync(ws, 4.99m, day.AddHours(1));
        Assert.Empty((await EvaluateAtAsync(app, id, at))!.Changed);
        await IngestCostAsync(ws, 0.01m, day.AddHours(2)); // exactly 50 %: this event crosses
        var crossed = (await EvaluateAtAsync(app, id, at))!;
        Assert.Equal(5.00m, crossed.SpendUsd);
        Assert.Equal(("warning", 0.5m), (crossed.Changed.Single().Level, crossed.Changed.Single().Threshold));
        Assert.Empty((await EvaluateAtAsync(app, id, at))!.Changed); // evaluated again: nothing new

        await IngestCostAsync(ws, 3m, day.AddHours(3));
        Assert.Equal(0.8m, (await EvaluateAtAsync(app, id, at.AddSeconds(30)))!.Changed.Single().OpenedThreshold);
        await IngestCostAsync(ws, 2m, day.AddHours(4));
        var exceeded = (await EvaluateAtAsync(app, id, at.AddMinutes(1)))!;
        var escalated = exceeded.Changed.Single();
        Assert.Equal(("exceeded", 1m, 0.8m), (escalated.Level, escalated.Threshold, escalated.OpenedThreshold));
        Assert.Equal(at.AddMinutes(1), escalated.EscalatedAt);
        Assert.Empty((await EvaluateAtAsync(app, id, at.AddMinutes(2)))!.Changed);

        var incidents = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/incidents?state=open");
        Assert.Equal(2, incidents.GetArrayLength());
        Assert.Equal("exceeded", incidents[0].GetProperty("level").GetString()); // newest first
        Assert.Equal(day, incidents[0].GetProperty("periodStart").GetDateTimeOffset());
        Assert.Equal(day.AddDays(1), incidents[0].GetProperty("periodEnd").GetDateTimeOffset());

        // The next day is a new period: the budget is re-armed.
        var nextDay = day.AddDays(1);
        Assert.Empty((await EvaluateAtAsync(app, id, nextDay.AddHours(12)))!.Changed);
        await IngestCostAsync(ws, 6m, nextDay.AddHours(1));
        var rearmed = (await EvaluateAtAsync(app, id, nextDay.AddHours(12)))!.Changed.Single();
        Assert.Equal((nextDay, "warning", 0.5m), (rearmed.PeriodStart, rearmed.Level, rearmed.Threshold));
        Assert.Equal(3, (await ws.Client.GetFromJsonAsync<JsonElement>("/v1/incidents")).GetArrayLength());
    }

    [Fact]
    public async Task Concurrent_evaluations_open_exactly_one_incident_and_announce_it_once()
    {
        var ws = await app.CreateWorkspaceAsync();
        var day = PastDay();
        var id = await CreateBudgetAsync(ws, """{"name":"tight","period":"daily","limitUsd":1,"warningThresholds":[]}""");
        await IngestCostAsync(ws, 3m, day.AddHours(5));

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => EvaluateAtAsync(app, id, day.AddHours(6)))));
        Assert.Equal(1, results.Sum(r => r!.Changed.Count));
        var stored = await app.WithDbAsync(db => db.Incidents.Where(i => i.WorkspaceId == ws.Id).ToListAsync());
        Assert.Equal("exceeded", Assert.Single(stored).Level);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await ManageChannels.CreateAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(), scope.ServiceProvider.GetRequiredService<AuditLog>(),
                scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), TimeProvider.System, ws.Id,
                new ChannelForm { Name = "hook", Url = "http://127.0.0.1:9/never", Format = WebhookFormats.Generic }, CancellationToken.None);
        }

        var announced = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => NotifyAtAsync(app, ws, day.AddHours(6)))));
        Assert.Single(announced.SelectMany(a => a));
        Assert.Equal(1, await app.WithDbAsync(db => db.WebhookDeliveries.CountAsync(d => d.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task An_evaluation_killed_mid_run_is_redone_by_the_next_with_one_incident_and_one_delivery()
    {
        var ws = await app.CreateWorkspaceAsync();
        var day = PastDay();
        var id = await CreateBudgetAsync(ws, """{"name":"killed","period":"daily","limitUsd":1,"warningThresholds":[]}""");
        await IngestCostAsync(ws, 3m, day.AddHours(5));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await ManageChannels.CreateAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(), scope.ServiceProvider.GetRequiredService<AuditLog>(),
                scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), TimeProvider.System, ws.Id,
                new ChannelForm { Name = "hook", Url = "http://127.0.0.1:9/never", Format = WebhookFormats.Generic }, CancellationToken.None);
        }

        // Hold the budget's row: the evaluation stops inside its transaction, and its backend is terminated there.
        await using var holder = new NpgsqlConnection(app.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
        await holder.OpenAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT 1 FROM budgets WHERE id = @id FOR UPDATE", holder, holding))
        {
            hold.Parameters.AddWithValue("id", Guid.Parse(id));
            await hold.ExecuteNonQueryAsync();
        }

        var killed = EvaluateAtAsync(app, id, day.AddHours(6));
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (true)
            {
                await using var terminate = new NpgsqlCommand(
                    "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE @holder = ANY(pg_blocking_pids(pid))", holder, holding);
                terminate.Parameters.AddWithValue("holder", holder.ProcessID);
                if ((int)(await terminate.ExecuteScalarAsync())! > 0)
                {
                    break;
                }

                Assert.False(killed.IsCompleted || deadline.IsCancellationRequested, "the evaluation did not wait on the held budget");
                await Task.Delay(20);
            }
        }

        await Assert.ThrowsAnyAsync<Exception>(() => killed);
        await holding.RollbackAsync();
        Assert.Equal(0, await app.WithDbAsync(db => db.Incidents.CountAsync(i => i.WorkspaceId == ws.Id)));

        var redone = await EvaluateAtAsync(app, id, day.AddHours(6));
        var again = await EvaluateAtAsync(app, id, day.AddHours(6));
        await NotifyAtAsync(app, ws, day.AddHours(6));
        await NotifyAtAsync(app, ws, day.AddHours(6));

        Assert.Single(redone!.Changed);
        Assert.Empty(again!.Changed);
        Assert.Equal("exceeded", Assert.Single(await app.WithDbAsync(db => db.Incidents.Where(i => i.WorkspaceId == ws.Id).ToListAsync())).Level);
        Assert.Equal(1, await app.WithDbAsync(db => db.WebhookDeliveries.CountAsync(d => d.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Incidents_are_acknowledged_and_resolved_with_who_when_and_a_note()
    {
        var ws = await app.CreateWorkspaceAsync();
        var day = PastDay();
        var id = await CreateBudgetAsync(ws, """{"name":"ack","period":"daily","limitUsd":1}""");
        await IngestCostAsync(ws, 2m, day.AddHours(1));
        var incident = (await EvaluateAtAsync(app, id, day.AddHours(2)))!.Changed.Single();

        var ack = await ws.Client.PostAsync($"/v1/incidents/{incident.Id}/acknowledge", Json("""{"note":"looking into the support bot"}"""));
        var acked = await ack.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("acknowledged", acked.GetProperty("state").GetString());
        Assert.StartsWith("api-key:om_", acked.GetProperty("acknowledgedBy").GetString());
        Assert.Equal("looking into the support bot", acked.GetProperty("note").GetString());
        var again = await (await ws.Client.PostAsync($"/v1/incidents/{incident.Id}/acknowledge", Json("{}"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(acked.GetProperty("acknowledgedAt").GetDateTimeOffset(), again.GetProperty("acknowledgedAt").GetDateTimeOffset(),
            TimeSpan.FromMilliseconds(1)); // the first stays (PostgreSQL keeps microseconds)

        var resolved = await (await ws.Client.PostAsync($"/v1/incidents/{incident.Id}/resolve", Json("""{"note":"prompt fixed"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("resolved", resolved.GetProperty("state").GetString());
        Assert.NotEqual(JsonValueKind.Null, resolved.GetProperty("resolvedAt").ValueKind);
        Assert.Equal(HttpStatusCode.Conflict, (await ws.Client.PostAsync($"/v1/incidents/{incident.Id}/acknowledge", Json("{}"))).StatusCode);
        Assert.Empty((await ws.Client.GetFromJsonAsync<JsonElement>("/v1/incidents?state=open")).EnumerateArray());

        var other = await app.CreateWorkspaceAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.Client.PostAsync($"/v1/incidents/{incident.Id}/resolve", Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ws.Client.GetAsync("/v1/incidents?state=closed")).StatusCode);
    }
}
