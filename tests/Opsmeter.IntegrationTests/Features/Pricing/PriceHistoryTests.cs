using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Pricing;

/// <summary>
/// The catalog's real price dates end to end (issue 17): events sent over HTTP on both sides of a price change are
/// stored at the price of their own moment, and the public listing answers the old price before a change.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class PriceHistoryTests(OpsmeterApp app)
{
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Theory]
    // gpt-4o pointed to gpt-4o-2024-05-13 ($5/$15) until 2024-10-02, then to gpt-4o-2024-08-06 ($2.50/$10).
    [InlineData("openai", "gpt-4o", "2024-10-02T00:00:00Z", "0.02", "0.0125")]
    // mistral-large-latest was Mistral Large 24.11 ($2/$6) until Mistral Large 3 ($0.50/$1.50) on 2025-12-02.
    [InlineData("mistral", "mistral-large-latest", "2025-12-02T00:00:00Z", "0.008", "0.002")]
    public async Task Events_either_side_of_a_price_change_are_stored_at_the_price_of_their_moment(
        string provider, string model, string change, string costBefore, string costAt)
    {
        var ws = await app.CreateWorkspaceAsync();
        await app.KeepRawEventsAsync(ws.Id, 3650);
        var at = DateTimeOffset.Parse(change, System.Globalization.CultureInfo.InvariantCulture);
        var sent = new TestEvent { Provider = provider, Model = model, InputTokens = 1000, OutputTokens = 1000 };

        var before = await ws.Client.PostAsync("/v1/ingest", (sent with { ExternalRequestId = "before", OccurredAt = at - Tick }).Content());
        var onTheInstant = await ws.Client.PostAsync("/v1/ingest", (sent with { ExternalRequestId = "at", OccurredAt = at }).Content());

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (before.StatusCode, onTheInstant.StatusCode));
        var stored = await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).ToDictionaryAsync(r => r.ExternalRequestId!));
        Assert.Equal(decimal.Parse(costBefore, System.Globalization.CultureInfo.InvariantCulture), stored["before"].CostUsd);
        Assert.Equal(decimal.Parse(costAt, System.Globalization.CultureInfo.InvariantCulture), stored["at"].CostUsd);
        Assert.All(stored.Values, r => Assert.Equal(("priced", "catalog"), (r.CostStatus, r.CostSource)));
    }

    [Fact]
    public async Task The_public_listing_answers_the_old_price_before_a_change()
    {
        using var client = app.CreateClient();

        var before = await client.GetFromJsonAsync<JsonElement[]>("/v1/public/pricing-models?provider=mistral&at=2025-12-01T23:59:59Z");
        var after = await client.GetFromJsonAsync<JsonElement[]>("/v1/public/pricing-models?provider=mistral&at=2025-12-02T00:00:00Z");

        static (string? Model, decimal Input) Latest(JsonElement[] rows)
        {
            var row = rows.Single(r => r.GetProperty("aliases").EnumerateArray().Any(a => a.GetString() == "mistral-large-latest"));
            return (row.GetProperty("model").GetString(), row.GetProperty("inputPerMillionUsd").GetDecimal());
        }

        Assert.Equal(("mistral-large-2411", 2m), Latest(before!));
        Assert.Equal(("mistral-large-2512", 0.5m), Latest(after!));
    }
}
