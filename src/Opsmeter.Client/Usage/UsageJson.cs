using System.Text.Json;

namespace Opsmeter.Client.Usage;

/// <summary>Reading counts out of a provider's body: absent or <c>null</c> is null, a required one that is missing throws.</summary>
internal static class UsageJson
{
    public static JsonElement? Object(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : null;

    public static JsonElement RequiredObject(JsonElement body, string name, string shape) =>
        Object(body, name) ?? throw Missing(shape, name);

    public static long? Count(JsonElement? parent, string name)
    {
        if (parent is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count) && count >= 0
            ? count
            : throw new ArgumentException($"'{name}' is not a token count: {value.GetRawText()}");
    }

    public static long RequiredCount(JsonElement parent, string name, string shape) =>
        Count(parent, name) ?? throw Missing(shape, name);

    public static string? Text(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    public static string RequiredText(JsonElement body, string name, string shape) => Text(body, name) ?? throw Missing(shape, name);

    /// <summary>A sum of optional counts: null only when every part is.</summary>
    public static long? Sum(long? a, long? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    public static OpsmeterEvent Parse(string json, Func<JsonElement, OpsmeterEvent> map)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = JsonDocument.Parse(json);
        return map(document.RootElement);
    }

    private static ArgumentException Missing(string shape, string field) =>
        new($"This is not {shape} with usage: it has no '{field}'. Pass the response (or the streaming event) that reports usage.");
}
