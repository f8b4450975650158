using System.IO.Compression;
using System.Net.Http.Headers;
using Google.Protobuf;
using Opsmeter.Web.Features.Otlp.Protos;

namespace Opsmeter.IntegrationTests.Features.Otlp;

/// <summary>Builds OTLP exports by hand (with the server's own generated messages) for the tests that control every byte.</summary>
internal static class OtlpSpans
{
    public const string TracesPath = "/v1/otlp/v1/traces";

    public static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    public static KeyValue Attr(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    /// <summary>A chat span with fresh random ids, started a minute ago and lasting 1.5 s.</summary>
    public static Span Chat(params KeyValue[] attributes)
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()),
            SpanId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()[..8]),
            Name = "chat",
            Kind = Span.Types.SpanKind.Client,
            StartTimeUnixNano = (ulong)(start - DateTimeOffset.UnixEpoch).Ticks * 100,
            EndTimeUnixNano = (ulong)(start.AddMilliseconds(1500) - DateTimeOffset.UnixEpoch).Ticks * 100,
        };
        span.Attributes.Add(attributes);
        return span;
    }

    public static ExportTraceServiceRequest Export(IEnumerable<KeyValue> resource, params Span[] spans)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "tests" } };
        scope.Spans.Add(spans);
        var resourceSpans = new ResourceSpans { Resource = new Resource() };
        resourceSpans.Resource.Attributes.Add(resource);
        resourceSpans.ScopeSpans.Add(scope);
        var export = new ExportTraceServiceRequest();
        export.ResourceSpans.Add(resourceSpans);
        return export;
    }

    public static string ExternalId(Span span) =>
        "otel-" + Convert.ToHexStringLower(span.TraceId.Span) + "-" + Convert.ToHexStringLower(span.SpanId.Span);

    public static ByteArrayContent Protobuf(byte[] body, bool gzip = false)
    {
        var content = new ByteArrayContent(gzip ? Gzip(body) : body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        return content;
    }

    public static ByteArrayContent Protobuf(IMessage message, bool gzip = false) => Protobuf(message.ToByteArray(), gzip);

    public static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(body);
        }

        return output.ToArray();
    }

    public static async Task<ExportTraceServiceResponse> ReadResponseAsync(HttpResponseMessage response) =>
        ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
}
