using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;

namespace Opsmeter.IntegrationTests.Features.Budgets;

[Collection(SharedApp.Name)]
public sealed class WebhookTests(OpsmeterApp app)
{
    [Fact]
    public async Task An_incident_is_delivered_signed_retried_after_a_500_and_logged()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        var (channelId, secret) = await AddChannelAsync(ws, receiver.Url, WebhookFormats.Generic);
        var (_, slackSecret) = await AddChannelAsync(ws, receiver.Url, WebhookFormats.Slack);
        var day = PastDay();
        var budgetId = await CreateBudgetAsync(ws, """{"name":"support daily","period":"daily","limitUsd":10,"warningThresholds":[0.8]}""");
        await IngestCostAsync(ws, 12m, day.AddHours(1), endpointTag: "support");
        await EvaluateAtAsync(app, budgetId, day.AddHours(2));

        var deliveries = await NotifyAtAsync(app, ws, day.AddHours(2));
        Assert.Equal(2, deliveries.Count); // one per channel
        var generic = await app.WithDbAsync(db => db.WebhookDeliveries.SingleAsync(d => deliveries.Contains(d.Id) && d.ChannelId == channelId));

        receiver.AnswerNext(500);
        await Assert.ThrowsAsync<WebhookDeliveryException>(() => DeliverAsync(generic.Id));
        var afterFailure = await app.WithDbAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == generic.Id));
        Assert.Equal(("pending", 1, 500), (afterFailure.Status, afterFailure.Attempts, afterFailure.LastStatusCode));
        await DeliverAsync(generic.Id); // Hangfire's retry
        var delivered = await app.WithDbAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == generic.Id));
        Assert.Equal(("delivered", 2, 200), (delivered.Status, delivered.Attempts, delivered.LastStatusCode));
        await DeliverAsync(generic.Id); // a stray extra run sends nothing
        foreach (var id in deliveries.Where(d => d != generic.Id))
        {
            await DeliverAsync(id);
        }

        var received = receiver.Received.ToList();
        Assert.Equal(3, received.Count);
        Assert.Equal(received[0].Body, received[1].Body); // the retry sends the same bytes
        Assert.True(WebhookVerifier.Verify(secret, received[1].Signature, received[1].Body, DateTimeOffset.UtcNow));
        var body = JsonDocument.Parse(received[1].Body).RootElement;
        Assert.Equal("budget.incident", body.GetProperty("type").GetString());
        Assert.Equal("exceeded", body.GetProperty("incident").GetProperty("level").GetString());
        Assert.Equal(12m, body.GetProperty("spendUsd").GetDecimal());
        Assert.Contains(body.GetProperty("topDrivers").EnumerateArray(),
            d => d.GetProperty("dimension").GetString() == "endpointTag" && d.GetProperty("value").GetString() == "support");
        var slack = received[2];
        Assert.True(WebhookVerifier.Verify(slackSecret, slack.Signature, slack.Body, DateTimeOffset.UtcNow));
        Assert.False(WebhookVerifier.Verify(secret, slack.Signature, slack.Body, DateTimeOffset.UtcNow)); // another channel's secret
        Assert.Contains("support daily", JsonDocument.Parse(slack.Body).RootElement.GetProperty("text").GetString());
        Assert.DoesNotContain(secret, await app.WithDbAsync(db => db.WebhookChannels.Where(c => c.Id == channelId).Select(c => c.ProtectedSecret).SingleAsync()));
    }

    [Fact]
    public async Task An_escalation_inside_the_five_minute_cooldown_is_announced_when_it_ends()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        await AddChannelAsync(ws, receiver.Url, WebhookFormats.Generic);
        var day = PastDay();
        var t0 = day.AddHours(3);
        var budgetId = await CreateBudgetAsync(ws, """{"name":"cooldown","period":"daily","limitUsd":10,"warningThresholds":[0.5]}""");

        await IngestCostAsync(ws, 6m, day.AddHours(1));
        await EvaluateAtAsync(app, budgetId, t0);
        Assert.Single(await NotifyAtAsync(app, ws, t0));
        await IngestCostAsync(ws, 6m, day.AddHours(2));
        await EvaluateAtAsync(app, budgetId, t0.AddMinutes(2)); // escalated, but announced 2 minutes ago
        Assert.Empty(await NotifyAtAsync(app, ws, t0.AddMinutes(2)));
        Assert.Empty(await NotifyAtAsync(app, ws, t0.AddMinutes(4)));
        var escalation = Assert.Single(await NotifyAtAsync(app, ws, t0.AddMinutes(5)));
        Assert.Empty(await NotifyAtAsync(app, ws, t0.AddMinutes(6)));
        var body = await app.WithDbAsync(db => db.WebhookDeliveries.Where(d => d.Id == escalation).Select(d => d.Body).SingleAsync());
        Assert.Equal("exceeded", JsonDocument.Parse(body).RootElement.GetProperty("incident").GetProperty("level").GetString());
    }

    [Fact]
    public async Task Send_test_delivers_a_signed_test_message()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        var (channelId, secret) = await AddChannelAsync(ws, receiver.Url, WebhookFormats.Generic);
        await using var scope = app.Services.CreateAsyncScope();
        var delivery = await ManageChannels.SendTestAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(),
            scope.ServiceProvider.GetRequiredService<IBackgroundJobClient>(), TimeProvider.System, ws.Id, channelId, CancellationToken.None);
        await DeliverAsync(delivery!.Id);

        var received = Assert.Single(receiver.Received);
        Assert.Equal("test", JsonDocument.Parse(received.Body).RootElement.GetProperty("type").GetString());
        Assert.True(WebhookVerifier.Verify(secret, received.Signature, received.Body, DateTimeOffset.UtcNow));
    }

    private async Task<(Guid Id, string Secret)> AddChannelAsync(TestWorkspace ws, string url, string format)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var (channel, secret) = await ManageChannels.CreateAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(), scope.ServiceProvider.GetRequiredService<AuditLog>(),
            scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), TimeProvider.System, ws.Id,
            new ChannelForm { Name = format + " hook", Url = url, Format = format }, CancellationToken.None);
        return (channel.Id, secret);
    }

    private async Task DeliverAsync(Guid deliveryId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DeliverWebhookJob>().RunAsync(deliveryId, CancellationToken.None);
    }
}
