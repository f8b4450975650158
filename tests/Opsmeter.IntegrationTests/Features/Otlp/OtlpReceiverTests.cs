using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Otlp.Protos;
using static Opsmeter.IntegrationTests.Features.Otlp.OtlpSpans;

namespace Opsmeter.IntegrationTests.Features.Otlp;

/// <summary>POST /v1/otlp/v1/traces at the wire: both encodings, old and new attribute names, mixed exports, retries, auth.</summary>
[Collection(SharedApp.Name)]
public sealed class OtlpReceiverTests(OpsmeterApp app)
{
    private static readonly KeyValue[] Service = [Attr("service.name", "support-bot")];

    [Fact]
    public async Task Otlp_json_with_hex_ids_and_string_int64s_is_read_and_answered_in_json()
    {
        var ws = await app.CreateWorkspaceAsync();
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        const string spanId = "7d2f9a41c3e85b06";
        var start = DateTimeOffset.UtcNow.AddMinutes(-2).ToUnixTimeMilliseconds() * 1_000_000 + 7; // the database keeps microseconds
        var body = $$$"""
            {"resourceSpans":[{"resource":{"attributes":[
                {"key":"service.name","value":{"stringValue":"support-bot"}},
                {"key":"deployment.environment.name","value":{"stringValue":"production"}}]},
              "scopeSpans":[{"scope":{"name":"opentelemetry.instrumentation.anthropic","version":"1.0"},"spans":[
                {"traceId":"{{{traceId}}}","spanId":"{{{spanId}}}","parentSpanId":"3c9e0a7b51f2d864","name":"chat claude-sonnet-4-5",
                 "kind":3,"startTimeUnixNano":"{{{start}}}","endTimeUnixNano":{{{start + 2_500_000_000}}},
                 "attributes":[
                   {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
                   {"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}},
                   {"key":"gen_ai.request.model","value":{"stringValue":"claude-sonnet-4-5-20250929"}},
                   {"key":"gen_ai.usage.input_tokens","value":{"intValue":"14748"}},
                   {"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":14336}},
                   {"key":"gen_ai.usage.cache_write.input_tokens","value":{"intValue":"0"}},
                   {"key":"gen_ai.usage.output_tokens","value":{"intValue":"689"}},
                   {"key":"gen_ai.usage.reasoning.output_tokens","value":{"intValue":"524"}},
                   {"key":"gen_ai.request.stop_sequences","value":{"arrayValue":{"values":[{"stringValue":"###"}]} } },
                   {"key":"opsmeter.data_mode","value":{"stringValue":"test"}}],
                 "status":{},"someFutureField":{"nested":true}}]}]}]}
            """;

        var response = await ws.Client.PostAsync(TracesPath, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{ }", (await response.Content.ReadAsStringAsync()).Trim());
        var row = Assert.Single(await app.WithDbAsync(db => db.LlmRequests.AsNoTracking().Where(r => r.WorkspaceId == ws.Id).ToListAsync()));
        Assert.Equal($"otel-{traceId}-{spanId}", row.ExternalRequestId);
        Assert.Equal(("anthropic", "claude-sonnet-4-5-20250929"), (row.Provider, row.Model));
        Assert.Equal((14748L, 689L, 14336L, 0L, 524L), (row.InputTokens, row.OutputTokens, row.CachedInputTokens, row.CacheWriteInputTokens, row.ReasoningTokens));
        Assert.Equal(("support-bot", "prod", "test"), (row.EndpointTag, row.Environment, row.DataMode));
        Assert.Equal(2500, row.LatencyMs);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(start / 1_000_000), row.OccurredAt);
    }

    [Fact]
    public async Task Old_attribute_names_are_read_and_the_new_ones_win_when_both_are_sent()
    {
        var ws = await app.CreateWorkspaceAsync();
        var old = Chat(Attr("gen_ai.system", "openai"), Attr("gen_ai.request.model", "gpt-4o-mini"),
            Attr("gen_ai.usage.prompt_tokens", 1000), Attr("gen_ai.usage.completion_tokens", 50),
            Attr("gen_ai.usage.cache_creation.input_tokens", 0));
        var both = Chat(Attr("gen_ai.usage.prompt_tokens", 1), Attr("gen_ai.system", "az.ai.openai"),
            Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "azure.ai.openai"), Attr("gen_ai.request.model", "gpt-4o"),
            Attr("gen_ai.usage.input_tokens", 300), Attr("gen_ai.usage.output_tokens", 30), Attr("gen_ai.usage.completion_tokens", 3),
            Attr("opsmeter.prompt_version", "p2"), Attr("opsmeter.user_id", "u1"), Attr("gen_ai.usage.cost", "0.5"));

        var response = await ws.Client.PostAsync(TracesPath, Protobuf(Export(Service, old, both)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null((await ReadResponseAsync(response)).PartialSuccess);
        var rows = await app.WithDbAsync(db => db.LlmRequests.AsNoTracking().Where(r => r.WorkspaceId == ws.Id).ToDictionaryAsync(r => r.ExternalRequestId));
        var fromOld = rows[ExternalId(old)];
        Assert.Equal(("openai", "gpt-4o-mini", 1000L, 50L), (fromOld.Provider, fromOld.Model, fromOld.InputTokens, fromOld.OutputTokens));
        var fromBoth = rows[ExternalId(both)];
        Assert.Equal(("azure-openai", 300L, 30L), (fromBoth.Provider, fromBoth.InputTokens, fromBoth.OutputTokens));
        Assert.Equal(("p2", "u1", 0.5m), (fromBoth.PromptVersion, fromBoth.UserId, fromBoth.ClientCostUsd));
    }

    [Fact]
    public async Task A_mixed_export_stores_GenAI_spans_counts_the_others_and_names_what_it_refused()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var counter = new IgnoredSpanCounter();
        var good = Chat(Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"), Attr("gen_ai.request.model", "gpt-4o"),
            Attr("gen_ai.usage.input_tokens", 10), Attr("gen_ai.usage.output_tokens", 5));
        var embeddings = Chat(Attr("gen_ai.operation.name", "embeddings"), Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.request.model", "text-embedding-3-small"), Attr("gen_ai.usage.input_tokens", 400));
        var noModel = Chat(Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.usage.input_tokens", 10), Attr("gen_ai.usage.output_tokens", 5));
        var http = Chat(Attr("http.request.method", "GET"), Attr("url.path", "/health"));
        var agent = Chat(Attr("gen_ai.operation.name", "invoke_agent"), Attr("gen_ai.usage.input_tokens", 10), Attr("gen_ai.usage.output_tokens", 5));
        var badEnvironment = new[] { Attr("service.name", "other"), Attr("deployment.environment.name", "qa") };
        var export = Export(Service, good, embeddings, noModel, http, agent);
        export.ResourceSpans.Add(Export(badEnvironment, Chat(Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.request.model", "gpt-4o"), Attr("gen_ai.usage.input_tokens", 1), Attr("gen_ai.usage.output_tokens", 1))).ResourceSpans);

        var response = await ws.Client.PostAsync(TracesPath, Protobuf(export));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var partial = (await ReadResponseAsync(response)).PartialSuccess;
        Assert.Equal(2, partial.RejectedSpans);
        Assert.Contains($"{ExternalId(noModel)}: model:", partial.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("'qa' is not one of", partial.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("2 span(s) without GenAI usage ignored", partial.ErrorMessage, StringComparison.Ordinal);
        Assert.True(counter.Ignored >= 2, $"the ignored-span counter saw {counter.Ignored}");
        var stored = await app.WithDbAsync(db => db.LlmRequests.AsNoTracking().Where(r => r.WorkspaceId == ws.Id).Select(r => r.ExternalRequestId).ToListAsync());
        Assert.Equal(new[] { ExternalId(embeddings), ExternalId(good) }.Order(), stored.Order());
    }

    [Fact]
    public async Task A_retried_export_is_a_duplicate_and_gzip_is_read()
    {
        var ws = await app.CreateWorkspaceAsync();
        var body = Export(Service, Chat(Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.request.model", "gpt-4o"), Attr("gen_ai.usage.input_tokens", 1000), Attr("gen_ai.usage.output_tokens", 100))).ToByteArray();

        var first = await ws.Client.PostAsync(TracesPath, Protobuf(body));
        var retry = await ws.Client.PostAsync(TracesPath, Protobuf(body, gzip: true));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, retry.StatusCode));
        Assert.Null((await ReadResponseAsync(retry)).PartialSuccess);
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task A_known_field_with_another_wire_type_is_skipped_as_an_unknown_field_as_protobuf_says()
    {
        var ws = await app.CreateWorkspaceAsync();
        var span = Chat(Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.request.model", "gpt-4o"), Attr("gen_ai.usage.input_tokens", 10), Attr("gen_ai.usage.output_tokens", 5));

        // Field 1 (resource_spans, a message) once as a varint: not the declared wire type, so a reader skips it.
        var response = await ws.Client.PostAsync(TracesPath, Protobuf([0x08, 0x96, 0x01, .. Export(Service, span).ToByteArray()]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Bearer_keys_work_and_only_ingest_keys_may_export()
    {
        var ws = await app.CreateWorkspaceAsync(ApiKeyScopes.Ingest);
        var reader = await app.CreateWorkspaceAsync(ApiKeyScopes.Read);
        var export = Export(Service, Chat(Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.request.model", "gpt-4o"), Attr("gen_ai.usage.input_tokens", 1), Attr("gen_ai.usage.output_tokens", 1)));
        using var bearer = app.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ws.Key);
        using var anonymous = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await bearer.PostAsync(TracesPath, Protobuf(export))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(TracesPath, Protobuf(export))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.Client.PostAsync(TracesPath, Protobuf(export))).StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == reader.Id)));
    }

    [Fact]
    public async Task Other_content_types_are_415()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync(TracesPath, new StringContent("resourceSpans", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(415, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
    }

    /// <summary>Sums the <c>opsmeter.otlp.spans</c> counter's "ignored" measurements while it is alive (other tests may add theirs).</summary>
    private sealed class IgnoredSpanCounter : IDisposable
    {
        private readonly MeterListener listener = new();
        private long ignored;

        public IgnoredSpanCounter()
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Opsmeter.Ingest" && instrument.Name == "opsmeter.otlp.spans")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag is { Key: "outcome", Value: "ignored" })
                    {
                        Interlocked.Add(ref ignored, value);
                    }
                }
            });
            listener.Start();
        }

        public long Ignored => Interlocked.Read(ref ignored);

        public void Dispose() => listener.Dispose();
    }
}
