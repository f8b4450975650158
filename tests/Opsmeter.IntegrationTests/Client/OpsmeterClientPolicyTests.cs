using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.Client;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Client.OpsmeterClientTests;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;

namespace Opsmeter.IntegrationTests.Client;

/// <summary><c>IOpsmeterClient.GetPolicyAsync</c> against real budgets on the server.</summary>
[Collection(SharedApp.Name)]
public sealed class OpsmeterClientPolicyTests(OpsmeterApp app)
{
    [Fact]
    public async Task The_policy_is_read_for_the_ambient_context_and_cached_for_its_ttl()
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestCostAsync(ws, 5m, DateTimeOffset.UtcNow, endpointTag: "support.reply");
        await CreateBudgetAsync(ws, """{"name":"support","scope":{"dimension":"endpointTag","value":"support.reply"},"period":"monthly","limitUsd":1,"onExceeded":"fallback","fallbackModel":"gpt-4o-mini"}""");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var counting = new Counting();
        await using var services = Services(ws, handler: () => counting, clock: clock);
        var client = services.GetRequiredService<IOpsmeterClient>();

        PolicyDecision first, cached;
        using (OpsmeterContext.Begin(endpointTag: "support.reply"))
        {
            first = await client.GetPolicyAsync(new PolicyQuery(Model: "gpt-4o"));
            cached = await client.GetPolicyAsync(new PolicyQuery(Model: "gpt-4o"));
        }

        Assert.Equal(("fallback", "gpt-4o-mini", 15), (first.Action, first.FallbackModel, first.TtlSeconds));
        Assert.Same(first, cached);
        Assert.Equal(1, counting.Requests);
        Assert.Equal("allow", (await client.GetPolicyAsync(new PolicyQuery(EndpointTag: "search"))).Action);
        clock.Advance(TimeSpan.FromSeconds(15));
        using (OpsmeterContext.Begin(endpointTag: "support.reply"))
        {
            await client.GetPolicyAsync(new PolicyQuery(Model: "gpt-4o"));
        }

        Assert.Equal(3, counting.Requests); // the other query, and the expired one read again
    }

    private sealed class Counting : DelegatingHandler
    {
        public int Requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
