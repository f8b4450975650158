using System.Text;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Otlp.Protos;
using static Opsmeter.IntegrationTests.Features.Otlp.OtlpSpans;

namespace Opsmeter.IntegrationTests.Features.Otlp;

/// <summary>Whatever bytes arrive at the OTLP route, the answer is a 4xx problem, never a 5xx, and nothing is stored.</summary>
[Collection(SharedApp.Name)]
public sealed class OtlpHostileInputTests(OpsmeterApp app)
{
    private static byte[] ValidExport() => Export([Attr("service.name", "hostile")], Chat(Attr("gen_ai.operation.name", "chat"),
        Attr("gen_ai.provider.name", "openai"), Attr("gen_ai.request.model", "gpt-4o"),
        Attr("gen_ai.usage.input_tokens", 10), Attr("gen_ai.usage.output_tokens", 5))).ToByteArray();

    public static TheoryData<string, int> Cases => new()
    {
        { "truncated", 400 },
        { "invalid wire type", 400 },
        { "end group without start", 400 },
        { "garbage", 400 },
        { "deep nesting", 400 },
        { "10 MB", 413 },
        { "invalid gzip", 400 },
        { "gzip bomb", 413 },
        { "json not an object", 400 },
        { "json bad hex id", 400 },
        { "json deep nesting", 400 },
        { "json wrong types", 400 },
        { "json truncated", 400 },
        { "brotli", 415 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_bodies_answer_4xx_and_store_nothing(string name, int status)
    {
        var ws = await app.CreateWorkspaceAsync();

        using var request = new HttpRequestMessage(HttpMethod.Post, TracesPath) { Content = Body(name) };
        // As the ingest hostile tests: with 100-continue the client waits for an early 413 instead of pushing 10 MB
        // into a connection the server has already closed.
        request.Headers.ExpectContinue = true;

        var response = await ws.Client.SendAsync(request);

        Assert.Equal((name, status), (name, (int)response.StatusCode));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
    }

    private static ByteArrayContent Body(string name)
    {
        var valid = ValidExport();
        return name switch
        {
            "truncated" => Protobuf(valid[..(valid.Length - 7)]),
            // Field 1 with wire type 7, which does not exist.
            "invalid wire type" => Protobuf([0x0F, 0x01, .. valid]),
            // Field 1 as an end-group (wire type 4) that no start-group opened.
            "end group without start" => Protobuf([.. valid, 0x0C]),
            "garbage" => Protobuf(Encoding.UTF8.GetBytes("this is not protobuf at all, just text")),
            "deep nesting" => Protobuf(DeeplyNested(200)),
            "10 MB" => Protobuf(new byte[10 * 1024 * 1024]),
            "invalid gzip" => Gzipped(Encoding.UTF8.GetBytes("not gzip")),
            // 1 MB of gzip that inflates to 1 GB would take the memory; the cap stops it at 20 MB.
            "gzip bomb" => Gzipped(Gzip(new byte[64 * 1024 * 1024])),
            "json not an object" => Json("[1,2,3]"),
            "json bad hex id" => Json("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"7d2f9a41c3e85b06"}]}]}]}"""),
            "json deep nesting" => Json("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":""" +
                string.Concat(Enumerable.Repeat("""{"kvlistValue":{"values":[{"key":"k","value":""", 100)) + "{}" +
                string.Concat(Enumerable.Repeat("}]}}", 100)) + "}]}]}]}]}"),
            "json wrong types" => Json("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":{"a":1}}]}]}]}"""),
            "json truncated" => Json("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"""),
            "brotli" => WithEncoding(Protobuf(valid), "br"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    /// <summary>An attribute whose value is a kvlist inside a kvlist, <paramref name="levels"/> deep: past Google.Protobuf's recursion limit.</summary>
    private static byte[] DeeplyNested(int levels)
    {
        var value = new AnyValue { StringValue = "bottom" };
        for (var i = 0; i < levels; i++)
        {
            var list = new KeyValueList();
            list.Values.Add(new KeyValue { Key = "k", Value = value });
            value = new AnyValue { KvlistValue = list };
        }

        var span = Chat(Attr("gen_ai.operation.name", "chat"));
        span.Attributes.Add(new KeyValue { Key = "deep", Value = value });
        // Google.Protobuf's writer has no recursion limit, so the bytes can be made; only reading them is refused.
        return Export([], span).ToByteArray();
    }

    /// <summary>These bytes as they are, labelled gzip.</summary>
    private static ByteArrayContent Gzipped(byte[] body) => WithEncoding(Protobuf(body), "gzip");

    private static ByteArrayContent WithEncoding(ByteArrayContent content, string encoding)
    {
        content.Headers.ContentEncoding.Add(encoding);
        return content;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
