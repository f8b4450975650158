using System.Globalization;

namespace Opsmeter.IntegrationTests.Security;

/// <summary>
/// One valid request per <c>/v1</c> route (docs/api.md shapes): the starting point that <see cref="HostileRequests"/> mutates.
/// <see cref="Route"/> is the route as the app maps it ("POST /v1/budgets/{id:guid}"), so a route the app gains without an
/// example here fails <c>Every_v1_route_has_generated_cases</c>.
/// </summary>
/// <param name="Route">The method and route pattern, as the app maps it.</param>
/// <param name="Path">The path with <c>{id}</c> where the route takes an id (an unknown one: the body is still checked first).</param>
/// <param name="Query">A valid query string without the <c>?</c>, or empty.</param>
/// <param name="Body">A valid JSON body, or null for a route that takes none.</param>
/// <param name="Valid">The status the valid request answers (404 where the id is unknown by design).</param>
/// <param name="NeedsBudget">The workspace gets a budget first, and <c>{id}</c> is its id.</param>
/// <param name="Anonymous">The route takes no key.</param>
/// <param name="FewCases">The route does heavy work on a valid request (demo data): only a handful of cases.</param>
internal sealed record RouteExample(string Route, string Path, string Query, string? Body, int Valid, bool NeedsBudget = false,
    bool Anonymous = false, bool FewCases = false)
{
    public string Method => Route[..Route.IndexOf(' ', StringComparison.Ordinal)];

    public bool Writes => Method != "GET";
}

internal static class HostileRoutes
{
    public const string Unknown = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    public static string Event(string id) => $$$"""
        {"externalRequestId":"{{{id}}}","provider":"openai","model":"gpt-4o-mini","endpointTag":"support.reply","promptVersion":"v3",
         "userId":"u1","tenantId":"t1","inputTokens":120,"outputTokens":30,"cachedInputTokens":20,"reasoningTokens":5,
         "latencyMs":850,"status":"success","errorCode":null,"dataMode":"real","environment":"prod","serviceTier":"standard",
         "occurredAt":"{{{Now(-60):O}}}","costUsd":0.0012,"metadata":{"team":"support","retries":1,"cached":true}}
        """;

    public const string Budget = """
        {"name":"support monthly","scope":{"dimension":"endpointTag","value":"support.reply"},"period":"monthly","timeZone":"Europe/Berlin",
         "limitUsd":100.5,"warningThresholds":[0.5,0.8],"onExceeded":"clamp","maxOutputTokens":256,"fallbackModel":null,"dataModes":["real"]}
        """;

    private static readonly string Window = $"from={Esc(Now(-86_400))}&to={Esc(Now(0))}";

    public static IReadOnlyList<RouteExample> All { get; } =
    [
        new("POST /v1/ingest", "/v1/ingest", "", Event("h-1"), 200),
        new("POST /v1/ingest/llm-request", "/v1/ingest/llm-request", "", Event("h-2"), 200),
        new("POST /v1/ingest/batch", "/v1/ingest/batch", "", $$"""{"events":[{{Event("b-1")}},{{Event("b-2")}}]}""", 200),
        new("POST /v1/ingest/demo", "/v1/ingest/demo", "", null, 200, FewCases: true),
        new("DELETE /v1/ingest/demo-data", "/v1/ingest/demo-data", "", null, 200),
        new("DELETE /v1/ingest/test-data", "/v1/ingest/test-data", "", null, 200),
        new("POST /v1/otlp/v1/traces", "/v1/otlp/v1/traces", "", Otlp(), 200),
        new("GET /v1/public/pricing-models", "/v1/public/pricing-models", $"at={Esc(Now(0))}&provider=openai", null, 200, Anonymous: true),
        new("GET /v1/pricing/overrides", "/v1/pricing/overrides", "", null, 200),
        new("POST /v1/pricing/overrides", "/v1/pricing/overrides", "", """
            {"provider":"openai","model":"gpt-4o-mini","inputPerMillionUsd":0.15,"outputPerMillionUsd":0.6,"cachedInputPerMillionUsd":0.075,
             "cacheWritePerMillionUsd":null,"reasoningPerMillionUsd":null,"longContextThresholdTokens":128000,"longContextInputPerMillionUsd":0.3,
             "longContextOutputPerMillionUsd":1.2,"effectiveFrom":"2026-01-01T00:00:00Z","reason":"contract 2026"}
            """, 201),
        new("POST /v1/pricing/overrides/{id:guid}/retire", $"/v1/pricing/overrides/{Unknown}/retire", "", """{"reason":"typo in the price"}""", 404),
        new("GET /v1/pricing/unpriced", "/v1/pricing/unpriced", "", null, 200),
        new("GET /v1/pricing/dry-run", "/v1/pricing/dry-run", $"priceId={Unknown}&{Window}", null, 404),
        new("GET /v1/policy", "/v1/policy", "endpointTag=support.reply&promptVersion=v3&tenantId=t1&userId=u1&model=gpt-4o&provider=openai", null, 200),
        new("GET /v1/diagnostics/workspace-status", "/v1/diagnostics/workspace-status", "", null, 200),
        new("GET /v1/metrics", "/v1/metrics", $"{Window}&groupBy=model&dataMode=real&environment=prod&endpointTag=support.reply", null, 200),
        new("GET /v1/compare", "/v1/compare", $"{Window}&groupBy=endpointTag&baselineFrom={Esc(Now(-172_800))}&baselineTo={Esc(Now(-86_400))}", null, 200),
        new("GET /v1/compare/prompt-versions", "/v1/compare/prompt-versions", $"{Window}&endpointTag=support.reply&a=v3&b=v4", null, 200),
        new("GET /v1/exports/requests.csv", "/v1/exports/requests.csv", $"{Window}&dataMode=real&model=gpt-4o", null, 200),
        new("GET /v1/exports/summary.csv", "/v1/exports/summary.csv", $"{Window}&groupBy=tenantId", null, 200),
        new("GET /v1/exports/finance-pack.csv", "/v1/exports/finance-pack.csv", "month=2026-01&dataMode=real", null, 200),
        new("GET /v1/budgets", "/v1/budgets", "", null, 200),
        new("POST /v1/budgets", "/v1/budgets", "", Budget, 201),
        new("GET /v1/budgets/{id:guid}", "/v1/budgets/{id}", "", null, 200, NeedsBudget: true),
        new("PUT /v1/budgets/{id:guid}", "/v1/budgets/{id}", "", Budget, 200, NeedsBudget: true),
        new("DELETE /v1/budgets/{id:guid}", "/v1/budgets/{id}", "", null, 204, NeedsBudget: true),
        new("GET /v1/budgets/{id:guid}/status", "/v1/budgets/{id}/status", "", null, 200, NeedsBudget: true),
        new("GET /v1/keys", "/v1/keys", "", null, 200),
        new("POST /v1/keys", "/v1/keys", "", """{"name":"ci exporter","scopes":["ingest","read"]}""", 201),
        new("DELETE /v1/keys/{id:guid}", $"/v1/keys/{Unknown}", "", null, 404),
        new("GET /v1/incidents", "/v1/incidents", "state=open", null, 200),
        new("POST /v1/incidents/{id:guid}/acknowledge", $"/v1/incidents/{Unknown}/acknowledge", "", """{"note":"looking into it"}""", 404),
        new("POST /v1/incidents/{id:guid}/resolve", $"/v1/incidents/{Unknown}/resolve", "", """{"note":"fixed the loop"}""", 404),
    ];

    /// <summary>An OTLP/JSON export of one GenAI chat span (ids in hex, times in nanoseconds as strings).</summary>
    private static string Otlp()
    {
        var start = (Now(-60) - DateTimeOffset.UnixEpoch).Ticks * 100;
        return $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hostile"}}]},
             "scopeSpans":[{"scope":{"name":"tests"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
             "name":"chat","kind":3,"startTimeUnixNano":"{{{start}}}","endTimeUnixNano":"{{{start + 1_500_000_000}}}","attributes":[
              {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
              {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"10"}},
              {"key":"gen_ai.usage.output_tokens","value":{"intValue":5}}]}]}]}]}
            """;
    }

    /// <summary>Now plus <paramref name="seconds"/>, to the second (the examples are built once per test run).</summary>
    private static DateTimeOffset Now(int seconds) =>
        DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + seconds);

    private static string Esc(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture));
}
