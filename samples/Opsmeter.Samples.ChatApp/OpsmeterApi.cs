using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Opsmeter.Samples.ChatApp;

/// <summary>A budget as <c>/v1/budgets</c> answers it (the fields the sample reads).</summary>
internal sealed record Budget(Guid Id, string Name);

/// <summary><c>GET /v1/budgets/{id}/status</c>.</summary>
internal sealed record BudgetState(decimal SpendUsd, decimal LimitUsd, decimal UtilizationRatio, string State);

/// <summary>One row of <c>/v1/exports/requests.csv</c>: an event as Opsmeter stored and priced it.</summary>
internal sealed record StoredEvent(string Model, long InputTokens, long OutputTokens, decimal CostUsd);

/// <summary>
/// The calls the sample makes beside the SDK: budgets (scope <c>admin</c>) and the stored events (scope <c>read</c>).
/// Every failure becomes a <see cref="SampleFailure"/> that says what to do about it.
/// </summary>
internal sealed class OpsmeterApi(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<Budget>> ListBudgetsAsync(CancellationToken ct) =>
        await ReadAsync<List<Budget>>(HttpMethod.Get, "/v1/budgets", null, "list budgets", ct);

    /// <summary>Creates the budget, or replaces the one of the same name; either way Opsmeter evaluates it at once.</summary>
    public async Task<(Budget Budget, bool Created)> SaveBudgetAsync(object budget, string name, CancellationToken ct)
    {
        var existing = (await ListBudgetsAsync(ct)).FirstOrDefault(b => b.Name == name);
        return existing is null
            ? (await ReadAsync<Budget>(HttpMethod.Post, "/v1/budgets", budget, "create a budget", ct), true)
            : (await ReadAsync<Budget>(HttpMethod.Put, $"/v1/budgets/{existing.Id}", budget, "update a budget", ct), false);
    }

    public async Task<BudgetState> BudgetStateAsync(Guid id, CancellationToken ct) =>
        await ReadAsync<BudgetState>(HttpMethod.Get, $"/v1/budgets/{id}/status", null, "read a budget's status", ct);

    /// <summary>The newest event of the endpoint in [from, to), from the requests export; null when there is none.</summary>
    public async Task<StoredEvent?> LatestEventAsync(string endpointTag, string dataMode, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var path = $"/v1/exports/requests.csv?endpointTag={Uri.EscapeDataString(endpointTag)}&dataMode={dataMode}" +
            $"&from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";
        using var response = await SendAsync(HttpMethod.Get, path, null, "read the stored events", ct);
        // The sample's own rows hold no commas or quotes, so splitting is enough here; a general reader needs an RFC 4180 parser.
        var lines = (await response.Content.ReadAsStringAsync(ct)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2)
        {
            return null;
        }

        var columns = lines[0].Split(',');
        var row = lines[^1].Split(',');
        string Field(string name) => row[Array.IndexOf(columns, name)];
        return new StoredEvent(Field("model"), long.Parse(Field("inputTokens"), CultureInfo.InvariantCulture),
            long.Parse(Field("outputTokens"), CultureInfo.InvariantCulture), decimal.Parse(Field("costUsd"), CultureInfo.InvariantCulture));
    }

    private async Task<T> ReadAsync<T>(HttpMethod method, string path, object? body, string what, CancellationToken ct)
    {
        using var response = await SendAsync(method, path, body, what, ct);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, ct)
                ?? throw new SampleFailure($"{http.BaseAddress} answered nothing when asked to {what}.");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new SampleFailure($"{http.BaseAddress} does not answer like Opsmeter (asked to {what}, it sent {response.Content.Headers.ContentType}).");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, string what, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: Json) };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new SampleFailure($"Cannot reach Opsmeter at {http.BaseAddress} ({e.Message}). Start it (README, \"Run it\") or pass its URL.");
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw new SampleFailure(response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => $"Opsmeter at {http.BaseAddress} refused the API key (401). Pass a key of that server, " +
                    "such as the one set in Opsmeter__Bootstrap__ApiKey.",
                HttpStatusCode.Forbidden => $"The API key may not {what} (403). The sample needs a key with the ingest, read and admin " +
                    "scopes (the bootstrap key has all three).",
                HttpStatusCode.NotFound => $"{http.BaseAddress} has no {path.Split('?')[0]} (404): is this Opsmeter's URL?",
                _ => $"Opsmeter answered {(int)response.StatusCode} {response.ReasonPhrase} when asked to {what}: " +
                    await response.Content.ReadAsStringAsync(ct),
            });
        }
    }
}
