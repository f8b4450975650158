using System.Net;
using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Features.Notifications;

/// <summary>
/// Webhooks cannot be aimed at internal addresses: the channel form says so, and the delivery's connect step refuses them
/// whatever the form let through (a name that resolves elsewhere by now). The shared test app allows the host 127.0.0.1 only.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class WebhookSafetyTests(OpsmeterApp app)
{
    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address")]
    [InlineData("http://10.1.2.3/hook", "10.1.2.3 is a private address")]
    [InlineData("http://192.168.0.10:8080/hook", "192.168.0.10 is a private address")]
    [InlineData("http://100.64.0.1/hook", "100.64.0.1 is a carrier-grade NAT address")]
    [InlineData("http://[::1]:8080/hook", "::1 is a loopback address")]
    [InlineData("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254 is a link-local address")]
    [InlineData("http://localhost:8080/hook", "localhost resolves to")]
    public async Task The_channel_form_refuses_an_internal_address(string url, string message)
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var response = await owner.PostFormAsync("/Dashboard/Alerts?handler=Create",
            new() { ["Form.Name"] = "internal", ["Form.Url"] = url, ["Form.Format"] = "generic" }, formPage: "/Dashboard/Alerts");

        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Refused: " + message, html, StringComparison.Ordinal);
        Assert.Equal(0, await app.WithDbAsync(db => db.WebhookChannels.CountAsync(c => c.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Editing_a_channel_to_point_at_the_metadata_service_is_refused()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        var (channelId, _) = await AddChannelAsync(ws.Id, receiver.Url);
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var response = await owner.PostFormAsync($"/Dashboard/Alerts/Channel?id={channelId}",
            new() { ["Form.Name"] = "hook", ["Form.Url"] = "http://169.254.169.254/latest/meta-data/iam/", ["Form.Format"] = "generic" },
            formPage: $"/Dashboard/Alerts/Channel?id={channelId}");

        Assert.Contains("Refused: 169.254.169.254 is a link-local address", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(receiver.Url, await app.WithDbAsync(db => db.WebhookChannels.Where(c => c.Id == channelId).Select(c => c.Url).SingleAsync()));
    }

    [Fact]
    public async Task The_connect_step_refuses_internal_addresses_that_got_past_the_form()
    {
        // As if each URL had resolved to a public address when saved (DNS rebinding): written past the form, straight to the table.
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        var cases = new Dictionary<string, string>
        {
            [$"http://localhost:{receiver.Port}/hook"] = "refused: loopback address",
            [$"http://[::1]:{receiver.Port}/hook"] = "refused: loopback address",
            [$"http://[::ffff:127.0.0.2]:{receiver.Port}/hook"] = "refused: loopback address",
            ["http://169.254.169.254/latest/meta-data/"] = "refused: link-local address",
            ["http://10.0.0.1/hook"] = "refused: private address",
            ["http://[fd00::1]/hook"] = "refused: private address",
        };

        foreach (var (url, reason) in cases)
        {
            var (channelId, _) = await AddChannelAsync(ws.Id, url);
            var delivery = await SendTestAsync(ws.Id, channelId);
            await Assert.ThrowsAsync<WebhookDeliveryException>(() => DeliverAsync(delivery, TimeProvider.System));
            var logged = await app.WithDbAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == delivery));
            Assert.Equal((url, "pending", 1, null, reason), (url, logged.Status, logged.Attempts, logged.LastStatusCode, logged.LastError));
        }

        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task The_allow_listed_receiver_is_delivered_to_and_its_10_MB_answer_is_discarded()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        var (channelId, _) = await AddChannelAsync(ws.Id, receiver.Url);
        var delivery = await SendTestAsync(ws.Id, channelId);

        receiver.AnswerNextWithBody(10 * 1024 * 1024);
        await DeliverAsync(delivery, TimeProvider.System);

        var logged = await app.WithDbAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == delivery));
        Assert.Equal(("delivered", 1, 200, null), (logged.Status, logged.Attempts, logged.LastStatusCode, logged.LastError));
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task The_signature_verifies_with_its_timestamp_and_fails_with_another_or_when_stale()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        var (channelId, secret) = await AddChannelAsync(ws.Id, receiver.Url);
        var delivery = await SendTestAsync(ws.Id, channelId);
        var signedAt = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

        await DeliverAsync(delivery, new FakeTimeProvider(signedAt));

        var received = Assert.Single(receiver.Received);
        Assert.Equal("test", JsonDocument.Parse(received.Body).RootElement.GetProperty("type").GetString());
        Assert.StartsWith($"t={signedAt.ToUnixTimeSeconds()},v1=", received.Signature, StringComparison.Ordinal);
        Assert.True(WebhookVerifier.Verify(secret, received.Signature, received.Body, signedAt.AddMinutes(4)));
        Assert.False(WebhookVerifier.Verify(secret, WebhookVerifier.WithTimestamp(received.Signature, signedAt.ToUnixTimeSeconds() + 1), received.Body,
            signedAt));
        Assert.False(WebhookVerifier.Verify(secret, received.Signature, received.Body, signedAt.AddMinutes(6))); // a replay, too late
        Assert.False(WebhookVerifier.Verify(secret, received.Signature, received.Body + " ", signedAt));
    }

    private async Task<(Guid Id, string Secret)> AddChannelAsync(Guid workspaceId, string url)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var (channel, secret) = await ManageChannels.CreateAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(),
            scope.ServiceProvider.GetRequiredService<AuditLog>(), scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), TimeProvider.System,
            workspaceId, new ChannelForm { Name = "hook", Url = url, Format = WebhookFormats.Generic }, CancellationToken.None);
        return (channel.Id, secret);
    }

    private async Task<Guid> SendTestAsync(Guid workspaceId, Guid channelId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var delivery = await ManageChannels.SendTestAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(),
            scope.ServiceProvider.GetRequiredService<IBackgroundJobClient>(), TimeProvider.System, workspaceId, channelId, CancellationToken.None);
        return delivery!.Id;
    }

    private async Task DeliverAsync(Guid deliveryId, TimeProvider clock)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await ActivatorUtilities.CreateInstance<DeliverWebhookJob>(scope.ServiceProvider, clock).RunAsync(deliveryId, CancellationToken.None);
    }
}
