using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

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
}
