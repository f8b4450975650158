using System.Text.Json;
using System.Text.Json.Serialization;
using Opsmeter.Web.Infrastructure.Http;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// One entry of <c>events</c> in a batch, read on its own: the event, or why it could not be read. Reading
/// each entry straight into <see cref="IngestEventRequest"/> (instead of keeping it as a JsonElement and
/// reading it again) halves the memory a batch takes while it waits for its commit.
/// </summary>
[JsonConverter(typeof(IngestBatchItemConverter))]
public sealed class IngestBatchItem
{
    public IngestBatchItem(IngestEventRequest? request) => Event = request;

    public IngestBatchItem(string? externalRequestId, IDictionary<string, string[]> errors) =>
        (ExternalRequestId, Errors) = (externalRequestId, errors);

    public IngestEventRequest? Event { get; private set; }

    /// <summary>The entry's externalRequestId when it could not be read as an event, so that its rejection can name it.</summary>
    public string? ExternalRequestId { get; }

    public IDictionary<string, string[]>? Errors { get; }

    /// <summary>
    /// Hands the event over and forgets it. The batch handler takes each event once it is priced, so that
    /// while the batch waits for its commit only the rows to store stay in memory, not the request as read:
    /// every garbage collection during that wait would otherwise have to copy both.
    /// </summary>
    public IngestEventRequest? Take()
    {
        var taken = Event;
        Event = null;
        return taken;
    }
}

/// <summary>
/// Reads one batch entry; an entry that is a JSON value of the wrong shape (a string, a number where a
/// number does not belong) is rejected alone. System.Text.Json hands a custom converter the whole
/// entry, already buffered, so a failed read can start over and skip it.
/// </summary>
internal sealed class IngestBatchItemConverter : JsonConverter<IngestBatchItem>
{
    // A null entry is an entry of the wrong shape too, not a missing one.
    public override bool HandleNull => true;

    public override IngestBatchItem Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return new IngestBatchItem(null, new Dictionary<string, string[]> { [""] = ["Each event must be a JSON object."] });
        }

        var start = reader;
        try
        {
            return new IngestBatchItem(JsonSerializer.Deserialize(ref reader, IngestJsonContext.Default.IngestEventRequest));
        }
        catch (JsonException e)
        {
            reader = start;
            using var entry = JsonDocument.ParseValue(ref reader);
            var id = entry.RootElement.TryGetProperty("externalRequestId", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
            return new IngestBatchItem(id, JsonErrors.ToValidationErrors(e));
        }
    }

    public override void Write(Utf8JsonWriter writer, IngestBatchItem value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.Event, IngestJsonContext.Default.IngestEventRequest);
}
