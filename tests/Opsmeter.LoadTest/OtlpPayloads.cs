using System.Buffers.Binary;
using Google.Protobuf;
using Opsmeter.Web.Features.Otlp.Protos;

namespace Opsmeter.LoadTest;

/// <summary>
/// The events of <see cref="Payloads"/> as OTLP GenAI spans (protobuf, what exporters send): the same providers,
/// models, tokens, attribution and error rate, one span per event, so that spans/s compares with batch events/s.
/// </summary>
internal static class OtlpPayloads
{
    private static readonly string[] Models = ["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4-5-20250929", "gemini-2.5-flash", "my-finetune"];
    private static readonly string[] Providers = ["openai", "openai", "anthropic", "gcp.gemini", "openai"];
    private static readonly string[] Endpoints = ["support.reply", "search.summarize", "chat.answer", "mail.draft"];

    public static byte[] Export(string runId, long first, int size)
    {
        var run = BitConverter.ToInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(runId)));
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "Experimental.Microsoft.Extensions.AI" } };
        var start = (ulong)(DateTimeOffset.UtcNow.AddSeconds(-5) - DateTimeOffset.UnixEpoch).Ticks * 100;
        for (var k = 0; k < size; k++)
        {
            scope.Spans.Add(Span(run, first + k, start));
        }

        var resource = new Resource();
        resource.Attributes.Add(Attr("service.name", "load-test"));
        resource.Attributes.Add(Attr("deployment.environment.name", "production"));
        var resourceSpans = new ResourceSpans { Resource = resource };
        resourceSpans.ScopeSpans.Add(scope);
        var export = new ExportTraceServiceRequest();
        export.ResourceSpans.Add(resourceSpans);
        return export.ToByteArray();
    }

    private static Span Span(long run, long n, ulong start)
    {
        var i = (int)(n % Models.Length);
        var traceId = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(traceId, run);
        BinaryPrimitives.WriteInt64BigEndian(traceId.AsSpan(8), n);
        var spanId = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(spanId, n + 1);
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(traceId),
            SpanId = ByteString.CopyFrom(spanId),
            Name = "chat " + Models[i],
            Kind = Web.Features.Otlp.Protos.Span.Types.SpanKind.Client,
            StartTimeUnixNano = start,
            EndTimeUnixNano = start + (ulong)(200 + n % 2000) * 1_000_000,
        };
        span.Attributes.Add(Attr("gen_ai.operation.name", "chat"));
        span.Attributes.Add(Attr("gen_ai.provider.name", Providers[i]));
        span.Attributes.Add(Attr("gen_ai.request.model", Models[i]));
        span.Attributes.Add(Attr("gen_ai.response.model", Models[i]));
        span.Attributes.Add(Attr("gen_ai.usage.input_tokens", 1000 + n % 3000));
        span.Attributes.Add(Attr("gen_ai.usage.cache_read.input_tokens", n % 500));
        span.Attributes.Add(Attr("gen_ai.usage.output_tokens", 100 + n % 900));
        span.Attributes.Add(Attr("opsmeter.endpoint_tag", Endpoints[n % Endpoints.Length]));
        span.Attributes.Add(Attr("gen_ai.prompt.version", "v" + (n % 7)));
        span.Attributes.Add(Attr("enduser.id", "user-" + (n % 5000)));
        span.Attributes.Add(Attr("opsmeter.tenant_id", "tenant-" + (n % 200)));
        span.Attributes.Add(Attr("server.address", "api.example.com"));
        if (n % 50 == 0)
        {
            span.Attributes.Add(Attr("error.type", "rate_limit_exceeded"));
            span.Status = new Status { Code = Status.Types.StatusCode.Error };
        }

        return span;
    }

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static KeyValue Attr(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };
}
