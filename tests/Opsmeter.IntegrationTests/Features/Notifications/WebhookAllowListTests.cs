using System.Net;
using System.Net.Sockets;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Features.Notifications;

/// <summary>
/// An app of its own whose allow-list names the host "localhost" instead of the test default 127.0.0.1: the literal address is
/// refused, the named host is let through to the same receiver, and each kind of failure reads as a few plain words.
/// </summary>
public sealed class WebhookAllowListTests
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Opsmeter:Webhooks:AllowedHosts:0"] = "localhost",
        ["Opsmeter:Webhooks:TimeoutSeconds"] = "1",
    };

    [Fact]
    public async Task Only_the_named_host_gets_through_and_the_delivery_log_says_why_others_failed_in_plain_words()
    {
        await using var app = new OpsmeterApp(Settings);
        await app.InitializeAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var named = $"http://localhost:{receiver.Port}/hook";

        var literal = await AddByFormAsync(owner, "literal", receiver.Url);
        Assert.Contains($"Refused: 127.0.0.1 is a loopback address", literal, StringComparison.Ordinal);
        await AddByFormAsync(owner, "named", named);
        var channels = await app.WithDbAsync(db => db.WebhookChannels.Where(c => c.WorkspaceId == ws.Id).ToDictionaryAsync(c => c.Name, c => c.Id));
        Assert.Equal(["named"], channels.Keys);

        var outcomes = new List<(string Expected, WebhookDelivery Delivery)>
        {
            ("delivered", await DeliverOnceAsync(app, ws.Id, channels["named"])),
        };
        receiver.AnswerNext(500);
        outcomes.Add(("HTTP 500", await DeliverOnceAsync(app, ws.Id, channels["named"])));
        receiver.HangNext();
        outcomes.Add(("timeout", await DeliverOnceAsync(app, ws.Id, channels["named"])));
        outcomes.Add(("TLS error", await DeliverOnceAsync(app, ws.Id, await AddDirectAsync(app, ws.Id, $"https://localhost:{receiver.Port}/hook"))));
        outcomes.Add(("connection refused", await DeliverOnceAsync(app, ws.Id, await AddDirectAsync(app, ws.Id, $"http://localhost:{ClosedPort()}/hook"))));
        outcomes.Add(("refused: loopback address", await DeliverOnceAsync(app, ws.Id, await AddDirectAsync(app, ws.Id, receiver.Url))));

        Assert.Equal(outcomes.Select(o => o.Expected), outcomes.Select(o => o.Delivery.LastError ?? o.Delivery.Status));
        Assert.Equal(3, receiver.Received.Count); // no request without a TLS handshake, a listener, or an allowed address
        var (_, page) = await owner.GetAsync("/Dashboard/Alerts");
        foreach (var internals in new[] { "Exception", "System.", " at ", "Socket", "127.0.0.1:" })
        {
            Assert.DoesNotContain(outcomes, o => o.Delivery.LastError?.Contains(internals, StringComparison.Ordinal) == true);
            Assert.DoesNotContain(internals, Deliveries(page), StringComparison.Ordinal);
        }

        Assert.Contains("refused: loopback address", page, StringComparison.Ordinal);
    }

    private static string Deliveries(string page) => page[page.IndexOf("Delivery log", StringComparison.Ordinal)..];

    private static async Task<string> AddByFormAsync(DashboardUser owner, string name, string url)
    {
        var response = await owner.PostFormAsync("/Dashboard/Alerts?handler=Create",
            new() { ["Form.Name"] = name, ["Form.Url"] = url, ["Form.Format"] = "generic" }, formPage: "/Dashboard/Alerts");
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    /// <summary>A channel written past the form, as one saved before its name resolved where it does now.</summary>
    private static async Task<Guid> AddDirectAsync(OpsmeterApp app, Guid workspaceId, string url)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var (channel, _) = await ManageChannels.CreateAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(),
            scope.ServiceProvider.GetRequiredService<AuditLog>(), scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), TimeProvider.System,
            workspaceId, new ChannelForm { Name = "direct", Url = url, Format = WebhookFormats.Generic }, CancellationToken.None);
        return channel.Id;
    }

    private static async Task<WebhookDelivery> DeliverOnceAsync(OpsmeterApp app, Guid workspaceId, Guid channelId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var delivery = await ManageChannels.SendTestAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(),
            scope.ServiceProvider.GetRequiredService<IBackgroundJobClient>(), TimeProvider.System, workspaceId, channelId, CancellationToken.None);
        try
        {
            await scope.ServiceProvider.GetRequiredService<DeliverWebhookJob>().RunAsync(delivery!.Id, CancellationToken.None);
        }
        catch (WebhookDeliveryException)
        {
            // a failed attempt: Hangfire would retry it
        }

        return await app.WithDbAsync(db => db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Id == delivery!.Id));
    }

    /// <summary>A loopback port nothing listens on (just released by a listener of ours).</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
