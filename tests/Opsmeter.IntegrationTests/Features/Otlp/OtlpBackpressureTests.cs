using System.Net;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Features.Otlp.OtlpSpans;

namespace Opsmeter.IntegrationTests.Features.Otlp;

/// <summary>When ingest cannot take an export it answers as OTLP asks: 503 with Retry-After, nothing acknowledged.</summary>
public sealed class OtlpBackpressureTests
{
    [Fact]
    public async Task An_export_the_ingest_queue_cannot_take_is_503_with_Retry_After_and_stores_nothing()
    {
        await using var app = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:Ingest:MaxQueuedEvents"] = "1" });
        await app.InitializeAsync();
        var ws = await app.CreateWorkspaceAsync();
        var spans = Enumerable.Range(0, 2).Select(_ => Chat(Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"),
            Attr("gen_ai.request.model", "gpt-4o"), Attr("gen_ai.usage.input_tokens", 10), Attr("gen_ai.usage.output_tokens", 5))).ToArray();

        var response = await ws.Client.PostAsync(TracesPath, Protobuf(Export([Attr("service.name", "busy")], spans).ToByteArray()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }
}
