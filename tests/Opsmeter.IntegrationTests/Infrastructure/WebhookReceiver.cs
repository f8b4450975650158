using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>
/// A real HTTP listener on 127.0.0.1 that records what webhooks receive and answers as it is told: a status code, a huge
/// body, or nothing at all until the caller gives up.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<Answer> answers = new();

    private WebhookReceiver(WebApplication app) => this.app = app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public string Url { get; private set; } = "";

    public int Port => new Uri(Url).Port;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var receiver = new WebhookReceiver(builder.Build());
        receiver.app.MapPost("/hook", receiver.AnswerAsync);
        await receiver.app.StartAsync();
        var address = receiver.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address + "/hook";
        return receiver;
    }

    /// <summary>The next requests get these status codes, then 200.</summary>
    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            answers.Enqueue(new Answer(status, 0, Hang: false));
        }
    }

    /// <summary>The next request gets 200 with a body of this many bytes (written from one small buffer).</summary>
    public void AnswerNextWithBody(long bytes) => answers.Enqueue(new Answer(200, bytes, Hang: false));

    /// <summary>The next request gets no answer until the caller hangs up.</summary>
    public void HangNext() => answers.Enqueue(new Answer(200, 0, Hang: true));

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private async Task AnswerAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        Received.Enqueue(new ReceivedWebhook(await reader.ReadToEndAsync(), context.Request.Headers["X-Opsmeter-Signature"].ToString()));
        var answer = answers.TryDequeue(out var next) ? next : new Answer(200, 0, Hang: false);
        var aborted = context.RequestAborted;
        try
        {
            if (answer.Hang)
            {
                await Task.Delay(Timeout.Infinite, aborted);
            }

            context.Response.StatusCode = answer.Status;
            context.Response.ContentLength = answer.BodyBytes;
            var chunk = new byte[64 * 1024];
            for (var left = answer.BodyBytes; left > 0 && !aborted.IsCancellationRequested; left -= chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(left, chunk.Length)), aborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The caller hung up, as it should on a huge body or after its timeout.
        }
    }

    private sealed record Answer(int Status, long BodyBytes, bool Hang);
}

internal sealed record ReceivedWebhook(string Body, string Signature);
