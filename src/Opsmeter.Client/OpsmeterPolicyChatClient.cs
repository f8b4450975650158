using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Opsmeter.Client;

/// <summary>How <see cref="OpsmeterPolicyChatClient"/> behaves when Opsmeter cannot answer in time, and how long it holds a queued call.</summary>
public sealed class OpsmeterPolicyOptions
{
    /// <summary>False (the default): the call proceeds as if allowed. True: the call is refused with <see cref="OpsmeterPolicyException"/>.</summary>
    public bool FailClosed { get; set; }

    /// <summary>
    /// The longest a call waits while the policy says <c>queue</c> (30 seconds by default; zero refuses at once). It asks
    /// again at the answer's <c>retryAfterSeconds</c> or <c>ttlSeconds</c>, whichever is sooner; still queued at the end,
    /// the call is refused with <see cref="OpsmeterPolicyException"/>, so that the app can keep the work for later.
    /// </summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>A call refused by the policy (<c>block</c>, or <c>queue</c> for longer than allowed), or by a fail-closed pipeline that could not ask.</summary>
public sealed class OpsmeterPolicyException(PolicyDecision decision, Exception? inner = null)
    : Exception($"Opsmeter policy: {decision.Action}. {string.Join(" ", decision.Reasons)}", inner)
{
    public PolicyDecision Decision { get; } = decision;
}

/// <summary>
/// Asks the policy before each call, for the ambient context and the call's model, and applies it: <c>warn</c> logs and
/// proceeds, <c>clamp</c> lowers <see cref="ChatOptions.MaxOutputTokens"/> to the policy's value, <c>fallback</c> sets
/// <see cref="ChatOptions.ModelId"/> to the fallback model, <c>queue</c> holds the call and asks again (see
/// <see cref="OpsmeterPolicyOptions.MaxQueueWait"/>), <c>block</c> throws <see cref="OpsmeterPolicyException"/>.
/// The caller's options are never changed (a copy is). Placed before <c>UseOpsmeter()</c>, the recorded call shows the
/// model actually used.
/// </summary>
internal sealed class OpsmeterPolicyChatClient(IChatClient inner, IOpsmeterClient opsmeter, OpsmeterPolicyOptions settings, TimeProvider clock,
    ILogger logger) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        await base.GetResponseAsync(messages, await ApplyAsync(options, cancellationToken), cancellationToken);

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var applied = await ApplyAsync(options, cancellationToken);
        await foreach (var update in base.GetStreamingResponseAsync(messages, applied, cancellationToken))
        {
            yield return update;
        }
    }

    private async Task<ChatOptions?> ApplyAsync(ChatOptions? options, CancellationToken cancellationToken)
    {
        var model = options?.ModelId ?? InnerClient.GetService<ChatClientMetadata>()?.DefaultModelId;
        var query = new PolicyQuery(Model: model);
        var decision = await AskAsync(query, cancellationToken);
        var queuedSince = clock.GetTimestamp();
        while (decision?.Action == "queue")
        {
            var left = settings.MaxQueueWait - clock.GetElapsedTime(queuedSince);
            if (left <= TimeSpan.Zero)
            {
                throw new OpsmeterPolicyException(decision);
            }

            var wait = TimeSpan.FromSeconds(Math.Max(1, Math.Min(decision.TtlSeconds, decision.RetryAfterSeconds ?? decision.TtlSeconds)));
            wait = wait < left ? wait : left;
            // The timer starts before the log line, so that whoever reads the line finds the wait already counting.
            var waiting = Task.Delay(wait, clock, cancellationToken);
            logger.LogInformation("Opsmeter policy queues this call ({Reasons}); asking again in {Wait}", string.Join(" ", decision.Reasons), wait);
            await waiting;
            decision = await AskAsync(query, cancellationToken);
        }

        switch (decision?.Action)
        {
            case null:
                return options;
            case "block":
                throw new OpsmeterPolicyException(decision);
            case "clamp" when decision.MaxOutputTokens is { } most:
                var clamped = options?.Clone() ?? new ChatOptions();
                clamped.MaxOutputTokens = Math.Min(clamped.MaxOutputTokens ?? most, most);
                return clamped;
            case "fallback" when decision.FallbackModel is { } fallback:
                var switched = options?.Clone() ?? new ChatOptions();
                switched.ModelId = fallback;
                return switched;
            case "warn":
                logger.LogWarning("Opsmeter policy warns: {Reasons}", string.Join(" ", decision.Reasons));
                return options;
            default:
                return options;
        }
    }

    /// <summary>The policy for the call, or null when Opsmeter could not answer and the pipeline fails open.</summary>
    private async Task<PolicyDecision?> AskAsync(PolicyQuery query, CancellationToken cancellationToken)
    {
        try
        {
            return await opsmeter.GetPolicyAsync(query, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (settings.FailClosed)
            {
                throw new OpsmeterPolicyException(new PolicyDecision("block", ["Opsmeter could not be asked, and the pipeline fails closed."],
                    null, null, null, "enforce", 0), e);
            }

            logger.LogWarning("Opsmeter could not be asked for the policy; the call proceeds ({Error})", e.Message);
            return null;
        }
    }
}
