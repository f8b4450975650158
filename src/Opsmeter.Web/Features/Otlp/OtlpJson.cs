using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Opsmeter.Web.Features.Otlp.Protos;

namespace Opsmeter.Web.Features.Otlp;

/// <summary>
/// OTLP/JSON: the protobuf JSON mapping, except that trace and span ids are hex strings, not base64 (OTLP
/// specification, "JSON Protobuf Encoding"). Google.Protobuf's parser reads bytes as base64, and a 32-digit hex id is
/// also valid base64, so it would be read silently wrong: the ids are turned into base64 first, then the document is
/// parsed by Google.Protobuf with unknown fields ignored (as OTLP asks receivers to).
/// </summary>
internal static class OtlpJson
{
    /// <summary>Deep enough for any real export (an attribute map inside a map inside a span is ~20), far below what could hurt.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true).WithRecursionLimit(MaxDepth));

    private static readonly SearchValues<char> IntegerCharacters = SearchValues.Create("-0123456789");

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);

    /// <summary>Parses an export; throws <see cref="OtlpFormatException"/> for anything that is not one.</summary>
    public static ExportTraceServiceRequest Parse(ReadOnlySpan<byte> utf8)
    {
        // System.Text.Json passes invalid UTF-8 inside strings through as U+FFFD; the API refuses it, as single ingest does.
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            throw new OtlpFormatException("The body is not valid UTF-8.");
        }

        try
        {
            var root = JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth }) as JsonObject
                ?? throw new OtlpFormatException("The body must be a JSON object (an ExportTraceServiceRequest).");
            foreach (var resourceSpans in Items(root, "resourceSpans", "resource_spans"))
            {
                foreach (var scopeSpans in Items(resourceSpans, "scopeSpans", "scope_spans"))
                {
                    foreach (var span in Items(scopeSpans, "spans", "spans"))
                    {
                        HexToBase64(span, "traceId", "trace_id");
                        HexToBase64(span, "spanId", "span_id");
                        HexToBase64(span, "parentSpanId", "parent_span_id");
                        foreach (var link in Items(span, "links", "links"))
                        {
                            HexToBase64(link, "traceId", "trace_id");
                            HexToBase64(link, "spanId", "span_id");
                        }
                    }
                }
            }

            LargeIntegersAsStrings(root);
            return Parser.Parse<ExportTraceServiceRequest>(root.ToJsonString());
        }
        catch (Exception e) when (e is JsonException or InvalidProtocolBufferException or InvalidJsonException or FormatException or InvalidOperationException
            or ArgumentException)
        {
            throw new OtlpFormatException("The body is not an OTLP/JSON ExportTraceServiceRequest: " + e.Message, e);
        }
    }

    public static string Format(IMessage message) => Formatter.Format(message);

    /// <summary>The objects of an array field (by its JSON name or its proto name); anything else is left for the parser to refuse.</summary>
    private static IEnumerable<JsonObject> Items(JsonObject parent, string jsonName, string protoName) =>
        (parent[jsonName] ?? parent[protoName]) is JsonArray array ? array.OfType<JsonObject>() : [];

    /// <summary>
    /// OTLP lets 64-bit integers (timestamps, intValue) be JSON numbers, but Google.Protobuf reads a number through a
    /// double and would round a nanosecond timestamp; as strings (which the protobuf JSON mapping accepts for every
    /// integer and floating-point field) they are read exactly. Recursion is bounded by the parse's <see cref="MaxDepth"/>.
    /// </summary>
    private static void LargeIntegersAsStrings(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    if (AsString(child) is { } text)
                    {
                        obj[name] = text;
                    }
                    else
                    {
                        LargeIntegersAsStrings(child);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (AsString(array[i]) is { } text)
                    {
                        array[i] = text;
                    }
                    else
                    {
                        LargeIntegersAsStrings(array[i]);
                    }
                }

                break;
            default:
                break;
        }
    }

    /// <summary>An integer literal beyond a double's exact range (2^53, 16 digits) as its digits; null for anything else.</summary>
    private static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.ToJsonString() is { Length: > 15 } digits
            && digits.AsSpan().IndexOfAnyExcept(IntegerCharacters) < 0
            ? digits
            : null;

    private static void HexToBase64(JsonObject parent, string jsonName, string protoName)
    {
        var name = parent.ContainsKey(jsonName) ? jsonName : protoName;
        if (parent[name] is JsonValue value && value.TryGetValue<string>(out var hex))
        {
            parent[name] = hex.Length == 0 ? "" : Convert.ToBase64String(Convert.FromHexString(hex));
        }
    }
}

/// <summary>The body is not an OTLP export (bad protobuf, bad JSON, bad ids, bad gzip): 400, not retryable.</summary>
internal sealed class OtlpFormatException(string message, Exception? inner = null) : Exception(message, inner);
