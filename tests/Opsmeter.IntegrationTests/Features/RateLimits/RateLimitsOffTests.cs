using System.Net;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.RateLimits;

public sealed class RateLimitsOffTests
{
    [Fact]
    public async Task Zero_turns_the_per_key_limit_off()
    {
        await using var app = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:RateLimits:PerKeyPerSecond"] = "0",
            ["Opsmeter:RateLimits:Burst"] = "1",
        });
        await app.InitializeAsync();
        var ws = await app.CreateWorkspaceAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add((await ws.Client.GetAsync("/v1/budgets")).StatusCode);
        }

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }
}
