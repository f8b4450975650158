using System.Text.Json;

namespace Opsmeter.Web.Infrastructure.Http;

/// <summary>Turns a JSON reading error into validation errors keyed by the camelCase field path (docs/api.md "Conventions").</summary>
internal static class JsonErrors
{
    public static Dictionary<string, string[]> ToValidationErrors(JsonException error)
    {
        var field = FieldPath(error.Path);
        var message = error.Path is null or "$"
            ? "The body is not valid JSON" + (error.LineNumber is { } line ? $" (line {line + 1}, byte {error.BytePositionInLine + 1})." : ".")
            : $"The value of '{field}' is not valid for its type.";
        return new Dictionary<string, string[]> { [field] = [message] };
    }

    /// <summary>"$.events[3].inputTokens" → "events[3].inputTokens"; the root is "".</summary>
    public static string FieldPath(string? jsonPath) =>
        jsonPath is null or "$" ? "" : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
}
