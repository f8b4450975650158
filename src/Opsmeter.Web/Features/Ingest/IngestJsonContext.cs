using System.Text.Json;
using System.Text.Json.Serialization;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>Source-generated JSON for the ingest payloads: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(IngestEventRequest))]
[JsonSerializable(typeof(IngestBatchRequest))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(IngestBatchResponse))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
