using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.RateLimits;

/// <summary>Each test calls from its own 127.0.0.x address, so that the per-address budgets of one do not touch another's.</summary>
public sealed class RateLimitTests(RateLimitedApp limited) : IClassFixture<RateLimitedApp>
{
    private OpsmeterApp App => limited.App;

    [Fact]
    public async Task A_key_over_its_burst_gets_429_with_Retry_After_while_other_keys_and_workspaces_are_served()
    {
        var busy = await App.CreateWorkspaceAsync();
        var sibling = await AddKeyAsync(busy.Id);
        var other = await App.CreateWorkspaceAsync();

        var served = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            served.Add((await busy.Client.GetAsync("/v1/budgets")).StatusCode);
        }

        var refused = await busy.Client.GetAsync("/v1/budgets");
        var refusedIngest = await busy.Client.PostAsync("/v1/ingest/llm-request", new TestEvent().Content());

        Assert.All(served, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("API key", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedIngest.StatusCode);
        Assert.Equal(0, await App.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == busy.Id)));

        using var siblingClient = RateLimitedApp.ClientFrom(App, "127.0.0.1", sibling);
        Assert.Equal(HttpStatusCode.OK, (await siblingClient.GetAsync("/v1/budgets")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync("/v1/budgets")).StatusCode);
    }

    [Fact]
    public async Task A_batch_is_one_request_however_many_events_it_carries()
    {
        var ws = await App.CreateWorkspaceAsync();

        var batch = await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(Enumerable.Range(0, 20).Select(_ => new TestEvent())));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await ws.Client.GetAsync("/v1/budgets")).StatusCode);
        }

        var sixth = await ws.Client.GetAsync("/v1/budgets");

        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
    }

    [Fact]
    public async Task Password_guesses_from_one_address_get_429_and_the_owner_still_signs_in_from_another()
    {
        var ws = await App.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(App, ws.Id);
        using var guesser = new DashboardUser(RateLimitedApp.ClientFrom(App, "127.0.0.2"));

        var guesses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            guesses.Add((await guesser.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = "wrong guess " + i })).StatusCode);
        }

        // Past its budget, even the right password is not tried from this address: nothing reaches the account's lockout count.
        var refused = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++)
        {
            refused.Add(await guesser.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = password }));
        }

        var invitation = await guesser.Client.PostAsync("/invite/some-token?handler=Create", new FormUrlEncodedContent([]));
        var setup = await guesser.Client.PostAsync("/setup", new FormUrlEncodedContent([]));
        var page = await refused[0].Content.ReadAsStringAsync();

        Assert.All(guesses, status => Assert.Equal(HttpStatusCode.OK, status)); // the form again, with its error
        Assert.All(refused, response => Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode));
        Assert.True(int.Parse(refused[0].Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains("Too many attempts", page, StringComparison.Ordinal);
        Assert.Contains("Wait ", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, invitation.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, setup.StatusCode);
        Assert.Equal(3, await App.WithDbAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.AccessFailedCount).SingleAsync()));

        using var owner = new DashboardUser(RateLimitedApp.ClientFrom(App, "127.0.0.3"));
        var signedIn = await owner.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/Dashboard")).Response.StatusCode);
    }

    [Fact]
    public async Task Unknown_keys_past_the_address_budget_are_refused_without_a_database_lookup()
    {
        var ws = await App.CreateWorkspaceAsync();
        using var known = RateLimitedApp.ClientFrom(App, "127.0.0.4", ws.Key);
        Assert.Equal(HttpStatusCode.OK, (await known.GetAsync("/v1/budgets")).StatusCode); // now in the key cache

        var before = limited.KeyLookups.Count;
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 23; i++)
        {
            using var guesser = RateLimitedApp.ClientFrom(App, "127.0.0.4", "om_" + Guid.NewGuid().ToString("N"));
            answers.Add(await guesser.GetAsync("/v1/budgets"));
        }

        var lookups = limited.KeyLookups.Count - before;
        var refused = answers[^1];
        using var newcomer = RateLimitedApp.ClientFrom(App, "127.0.0.5", (await App.CreateWorkspaceAsync()).Key);

        Assert.All(answers[..3], response => Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode));
        Assert.All(answers[3..], response => Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode));
        Assert.Equal(3, lookups);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await known.GetAsync("/v1/budgets")).StatusCode); // a cached, valid key of that address still works
        Assert.Equal(HttpStatusCode.OK, (await newcomer.GetAsync("/v1/budgets")).StatusCode); // and other addresses are looked up as before
    }

    private async Task<string> AddKeyAsync(Guid workspaceId)
    {
        var second = await App.CreateWorkspaceAsync();
        // A second key of the same workspace: moved over from a fresh workspace, so it is created the way the app creates keys.
        await App.WithDbAsync(db => db.ApiKeys.Where(k => k.WorkspaceId == second.Id)
            .ExecuteUpdateAsync(k => k.SetProperty(x => x.WorkspaceId, workspaceId)));
        return second.Key;
    }
}
