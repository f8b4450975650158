using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Events;

namespace Opsmeter.IntegrationTests.Features.Otlp;

/// <summary>The real OpenTelemetry .NET SDK and its OTLP exporter (HttpProtobuf), and Microsoft.Extensions.AI's UseOpenTelemetry(), exporting to the running server.</summary>
[Collection(SharedApp.Name)]
public sealed class OtlpExporterTests(OpsmeterApp app)
{
    [Fact]
    public async Task Otlp_exporter_spans_become_events_with_tokens_cost_and_attribution()
    {
        var ws = await app.CreateWorkspaceAsync();
        var sourceName = "otlp-test-" + Guid.NewGuid().ToString("N");
        using var source = new ActivitySource(sourceName);
        using var tracing = TracerFor(ws, sourceName, ("deployment.environment.name", "staging"));
        string chatId;
        using (var request = source.StartActivity("POST /answer", ActivityKind.Server))
        {
            request!.SetTag("http.request.method", "POST");
            using var chat = source.StartActivity("chat gpt-4o", ActivityKind.Client)!;
            chat.SetTag("gen_ai.operation.name", "chat");
            chat.SetTag("gen_ai.provider.name", "openai");
            chat.SetTag("gen_ai.request.model", "gpt-4o");
            chat.SetTag("gen_ai.response.model", "gpt-4o-2024-08-06");
            chat.SetTag("gen_ai.usage.input_tokens", 2000);
            chat.SetTag("gen_ai.usage.cache_read.input_tokens", 1000);
            chat.SetTag("gen_ai.usage.output_tokens", 100);
            chat.SetTag("opsmeter.endpoint_tag", "answer");
            chat.SetTag("gen_ai.prompt.version", "v7");
            chat.SetTag("enduser.id", "user-42");
            chat.SetTag("opsmeter.tenant_id", "acme");
            chatId = $"otel-{chat.TraceId.ToHexString()}-{chat.SpanId.ToHexString()}";
        }

        Assert.True(tracing.ForceFlush(10_000), "the exporter did not flush");

        var stored = await app.WithDbAsync(db => db.LlmRequests.AsNoTracking().Where(r => r.WorkspaceId == ws.Id).ToListAsync());
        var row = Assert.Single(stored); // the HTTP server span is ignored
        Assert.Equal(chatId, row.ExternalRequestId);
        Assert.Equal(("openai", "gpt-4o-2024-08-06"), (row.Provider, row.Model));
        Assert.Equal((2000L, 100L, 1000L), (row.InputTokens, row.OutputTokens, row.CachedInputTokens));
        Assert.Equal(("answer", "v7", "user-42", "acme"), (row.EndpointTag, row.PromptVersion, row.UserId, row.TenantId));
        Assert.Equal(("success", "staging", "real"), (row.Status, row.Environment, row.DataMode));
        Assert.Equal(CostStatuses.Priced, row.CostStatus);
        Assert.Equal(await CostOfTheSameEventByIngestAsync(ws, row), row.CostUsd);
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_UseOpenTelemetry_needs_no_Opsmeter_code()
    {
        var ws = await app.CreateWorkspaceAsync();
        var sourceName = "meai-test-" + Guid.NewGuid().ToString("N");
        using var tracing = TracerFor(ws, sourceName);
        using var chat = new ChatClientBuilder(new FakeChatClient()).UseOpenTelemetry(sourceName: sourceName).Build();

        await chat.GetResponseAsync("How much is this?", new ChatOptions { ModelId = "gpt-4o-mini" });
        Assert.True(tracing.ForceFlush(10_000), "the exporter did not flush");

        var row = Assert.Single(await app.WithDbAsync(db => db.LlmRequests.AsNoTracking().Where(r => r.WorkspaceId == ws.Id).ToListAsync()));
        Assert.StartsWith("otel-", row.ExternalRequestId, StringComparison.Ordinal);
        Assert.Equal(("openai", "gpt-4o-mini-2024-07-18"), (row.Provider, row.Model));
        Assert.Equal((1200L, 300L, 200L, 100L), (row.InputTokens, row.OutputTokens, row.CachedInputTokens, row.ReasoningTokens));
        Assert.Equal("otel-tests-app", row.EndpointTag); // service.name, as no span says otherwise
        Assert.Equal(CostStatuses.Priced, row.CostStatus);
        Assert.True(row.CostUsd > 0);
        Assert.Equal(await CostOfTheSameEventByIngestAsync(ws, row), row.CostUsd);
    }

    [Fact]
    public async Task A_failed_call_is_stored_as_an_error_with_its_error_type()
    {
        var ws = await app.CreateWorkspaceAsync();
        var sourceName = "otlp-error-" + Guid.NewGuid().ToString("N");
        using var source = new ActivitySource(sourceName);
        using var tracing = TracerFor(ws, sourceName);
        using (var chat = source.StartActivity("chat gpt-4o", ActivityKind.Client)!)
        {
            chat.SetTag("gen_ai.operation.name", "chat");
            chat.SetTag("gen_ai.provider.name", "openai");
            chat.SetTag("gen_ai.request.model", "gpt-4o");
            chat.SetTag("error.type", "rate_limit_exceeded");
            chat.SetStatus(ActivityStatusCode.Error, "429 from the provider");
        }

        Assert.True(tracing.ForceFlush(10_000), "the exporter did not flush");

        var row = Assert.Single(await app.WithDbAsync(db => db.LlmRequests.AsNoTracking().Where(r => r.WorkspaceId == ws.Id).ToListAsync()));
        Assert.Equal(("error", "rate_limit_exceeded", 0L, 0L), (row.Status, row.ErrorCode, row.InputTokens, row.OutputTokens));
    }

    private TracerProvider TracerFor(TestWorkspace ws, string sourceName, params (string Key, object Value)[] resource) =>
        Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("otel-tests-app")
                .AddAttributes(resource.Select(r => new KeyValuePair<string, object>(r.Key, r.Value))))
            .AddSource(sourceName)
            .AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri(ws.Client.BaseAddress!, OtlpSpans.TracesPath);
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Headers = "X-API-Key=" + ws.Key;
                o.HttpClientFactory = () => app.CreateClient();
                o.ExportProcessorType = ExportProcessorType.Batch;
            })
            .Build();

    /// <summary>What <c>/v1/ingest</c> charges for the same call: OTLP must price exactly as ingest does.</summary>
    private static async Task<decimal> CostOfTheSameEventByIngestAsync(TestWorkspace ws, LlmRequest row)
    {
        var response = await ws.Client.PostAsync("/v1/ingest", HttpExtensions.Json($$"""
            {"externalRequestId":"same-{{Guid.NewGuid():N}}","provider":"{{row.Provider}}","model":"{{row.Model}}",
             "inputTokens":{{row.InputTokens}},"outputTokens":{{row.OutputTokens}},"cachedInputTokens":{{row.CachedInputTokens}},
             "reasoningTokens":{{row.ReasoningTokens}},"status":"success"}
            """));
        response.EnsureSuccessStatusCode();
        var body = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content);
        return body.GetProperty("costUsd").GetDecimal();
    }

    /// <summary>An OpenAI-like chat client that answers at once with usage, as a provider's client would report it.</summary>
    private sealed class FakeChatClient : IChatClient
    {
        private readonly ChatClientMetadata metadata = new("openai", new Uri("https://api.openai.com/v1"), "gpt-4o-mini");

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "About a tenth of a cent."))
            {
                ModelId = "gpt-4o-mini-2024-07-18",
                Usage = new UsageDetails { InputTokenCount = 1200, OutputTokenCount = 300, CachedInputTokenCount = 200, ReasoningTokenCount = 100 },
            });

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceKey is null && serviceType == typeof(ChatClientMetadata) ? metadata : null;

        public void Dispose()
        {
        }
    }
}
