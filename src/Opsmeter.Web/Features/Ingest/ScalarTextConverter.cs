using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// Reads a text field that published clients sometimes send as a JSON number or boolean (docs/api.md "Conventions":
/// an <c>errorCode</c> of <c>20</c> or <c>503</c> is its text). A number keeps its exact JSON spelling; an object
/// or array is still an error naming the field.
/// </summary>
internal sealed class ScalarTextConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => throw new JsonException("Expected text, a number or a boolean."),
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
