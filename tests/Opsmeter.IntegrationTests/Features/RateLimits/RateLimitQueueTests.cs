using System.Net;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.RateLimits;

public sealed class RateLimitQueueTests
{
    [Fact]
    public async Task A_key_a_little_over_its_rate_is_held_to_it_rather_than_refused()
    {
        // 100/s with no burst to speak of: 10 tokens every 100 ms, and 10 requests may wait for them. A slower machine only
        // gives the requests more tokens, never fewer.
        await using var app = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:RateLimits:PerKeyPerSecond"] = "100",
            ["Opsmeter:RateLimits:Burst"] = "1",
        });
        await app.InitializeAsync();
        var ws = await app.CreateWorkspaceAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ws.Client.GetAsync("/v1/budgets")));

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));
    }
}
