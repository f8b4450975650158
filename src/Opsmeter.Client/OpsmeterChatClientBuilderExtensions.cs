using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Opsmeter.Client;

public static class OpsmeterChatClientBuilderExtensions
{
    /// <summary>
    /// Records every call of the pipeline's inner client with Opsmeter (<see cref="IOpsmeterClient"/> from the services,
    /// registered by <c>AddOpsmeter</c>, unless one is given). Place it last (nearest the provider) so that the recorded
    /// call is the one actually made.
    /// </summary>
    public static ChatClientBuilder UseOpsmeter(this ChatClientBuilder builder, IOpsmeterClient? opsmeter = null) =>
        builder.Use((inner, services) => new OpsmeterChatClient(inner, opsmeter ?? services.GetRequiredService<IOpsmeterClient>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System));

    /// <summary>
    /// Applies Opsmeter's policy before each call (warn, clamp, fallback, queue, block; see <see cref="OpsmeterPolicyChatClient"/>).
    /// Place it before <see cref="UseOpsmeter"/> so that the recorded call shows the model actually used.
    /// </summary>
    public static ChatClientBuilder UseOpsmeterPolicy(this ChatClientBuilder builder, Action<OpsmeterPolicyOptions>? configure = null,
        IOpsmeterClient? opsmeter = null)
    {
        var settings = new OpsmeterPolicyOptions();
        configure?.Invoke(settings);
        return builder.Use((inner, services) => new OpsmeterPolicyChatClient(inner, opsmeter ?? services.GetRequiredService<IOpsmeterClient>(),
            settings, services.GetService<TimeProvider>() ?? TimeProvider.System,
            (ILogger?)services.GetService<ILoggerFactory>()?.CreateLogger<OpsmeterPolicyChatClient>() ?? NullLogger.Instance));
    }
}
