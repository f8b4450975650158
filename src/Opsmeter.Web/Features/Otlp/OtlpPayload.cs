using System.IO.Compression;
using Google.Protobuf;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Otlp.Protos;

namespace Opsmeter.Web.Features.Otlp;

/// <summary>The two OTLP/HTTP encodings: binary protobuf (what exporters send by default) and OTLP/JSON.</summary>
internal enum OtlpEncoding
{
    Protobuf,
    Json,
}

/// <summary>
/// Reads an OTLP/HTTP export body: content type, optional gzip (inflated with a cap, so that a small compression bomb
/// cannot take the memory), then protobuf or JSON. Everything a client can get wrong is an <see cref="OtlpFormatException"/>
/// (400) or an <see cref="OtlpTooLargeException"/> (413), never a server error.
/// </summary>
internal static class OtlpPayload
{
    public const string ProtobufContentType = "application/x-protobuf";
    public const string JsonContentType = "application/json";

    /// <summary>Most bytes an export may inflate to: about four times the largest body on the wire (5 MB).</summary>
    public const int MaxInflatedBytes = 20 * 1024 * 1024;

    private static readonly MessageParser<ExportTraceServiceRequest> Parser =
        ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true);

    /// <summary>The body's encoding from its Content-Type, or null when it is neither (415).</summary>
    public static OtlpEncoding? EncodingOf(HttpRequest request)
    {
        var mediaType = request.ContentType?.Split(';', 2)[0].Trim();
        return mediaType switch
        {
            _ when string.Equals(mediaType, ProtobufContentType, StringComparison.OrdinalIgnoreCase) => OtlpEncoding.Protobuf,
            _ when string.Equals(mediaType, "application/protobuf", StringComparison.OrdinalIgnoreCase) => OtlpEncoding.Protobuf,
            _ when string.Equals(mediaType, JsonContentType, StringComparison.OrdinalIgnoreCase) => OtlpEncoding.Json,
            _ => null,
        };
    }

    /// <summary>Whether Opsmeter can undo the body's Content-Encoding: none, identity or gzip.</summary>
    public static bool IsSupportedContentEncoding(HttpRequest request) =>
        request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant() is "" or "identity" or "gzip";

    public static async Task<ExportTraceServiceRequest> ReadAsync(HttpRequest request, OtlpEncoding encoding, CancellationToken ct)
    {
        using var body = await ReadBodyAsync(request, ct);
        var bytes = body.GetBuffer().AsSpan(0, (int)body.Length);
        if (encoding == OtlpEncoding.Json)
        {
            return OtlpJson.Parse(bytes);
        }

        try
        {
            // Google.Protobuf counts nesting (limit 100) and throws RecursionLimitExceeded past it, before the stack is at risk.
            return Parser.ParseFrom(body.GetBuffer(), 0, (int)body.Length);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OtlpFormatException("The body is not a protobuf ExportTraceServiceRequest: " + e.Message, e);
        }
    }

    private static async Task<MemoryStream> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var gzip = request.Headers.ContentEncoding.ToString().Trim().Equals("gzip", StringComparison.OrdinalIgnoreCase);
        // Content-Length is only a hint (Kestrel enforces the route's limit as the body is read).
        var buffer = new MemoryStream((int)Math.Min((request.ContentLength ?? 0) * (gzip ? 4 : 1), IngestOptions.MaxBatchBodyBytes));
        var inflating = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : null;
        try
        {
            var source = inflating ?? request.Body;
            var chunk = new byte[81_920];
            int read;
            while ((read = await source.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxInflatedBytes)
                {
                    throw new OtlpTooLargeException($"The export inflates to more than {MaxInflatedBytes / (1024 * 1024)} MB; send smaller batches.");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer;
        }
        catch (InvalidDataException e)
        {
            await buffer.DisposeAsync();
            throw new OtlpFormatException("The body is not valid gzip: " + e.Message, e);
        }
        catch
        {
            await buffer.DisposeAsync();
            throw;
        }
        finally
        {
            if (inflating is not null)
            {
                await inflating.DisposeAsync();
            }
        }
    }
}

/// <summary>The export is larger than Opsmeter takes once inflated: 413, not retryable as it is.</summary>
internal sealed class OtlpTooLargeException(string message) : Exception(message);
