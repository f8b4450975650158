using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Opsmeter.IntegrationTests.Security;

/// <summary>One bad request: what it is (printed when it fails), and whether it is invalid by construction (must be a 4xx).</summary>
internal sealed record HostileCase(RouteExample Example, string What, string PathAndQuery, byte[]? Body, string? ContentType, bool MustRefuse,
    string? Key = "")
{
    public override string ToString() => $"{Example.Route} [{What}] {PathAndQuery} " +
        (Body is null ? "" : Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 300)) + (Body.Length > 300 ? $"… ({Body.Length} bytes)" : ""));
}

/// <summary>
/// Turns each route's valid example into bad requests: malformed and truncated JSON, wrong types, numbers beyond int64
/// and decimal, long and 1 MB strings, deep nesting, invalid UTF-8, nulls everywhere, unknown enums, extreme dates,
/// oversized batches, bad query strings and ids, missing or bogus keys. Deterministic: the same seed gives the same cases.
/// </summary>
internal static class HostileRequests
{
    public const int Seed = 19_08;

    private static readonly string Long = new('x', 10_000);

    /// <summary>Values put in place of each field in turn: some are valid for some fields, which is the point.</summary>
    private static readonly (string What, string Json)[] FieldValues =
    [
        ("null", "null"), ("string", "\"x\""), ("empty string", "\"\""), ("number", "123"), ("negative", "-1"), ("fraction", "1.5"),
        ("bool", "true"), ("array", "[1,\"a\",null]"), ("object", "{\"a\":{\"b\":1}}"), ("beyond int64", "99999999999999999999999"),
        ("below int64", "-9223372036854775809"), ("beyond decimal", "1e400"), ("tiny", "1e-400"), ("max decimal", "79228162514264337593543950336"),
        ("unknown enum", "\"zzz-unknown\""), ("min date", "\"0001-01-01T00:00:00Z\""), ("max date", "\"9999-12-31T23:59:59.9999999Z\""),
        ("date without offset", "\"2026-02-30T25:61:00\""), ("NUL", "\"a\\u0000b\""), ("lone surrogate", "\"\\ud800x\""),
        ("10k string", JsonSerializer.Serialize(Long)), ("script", "\"<script>alert(1)</script>' OR 1=1 --\""),
        ("big array", "[" + string.Join(',', Enumerable.Repeat("\"a\"", 5_000)) + "]"),
    ];

    private static readonly string[] QueryValues =
    [
        "", "x", "-1", "0", "1.5", "99999999999999999999999", "1e400", "NaN", "Infinity", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
        "2026-02-30", "zzz-unknown", "%", "%ZZ", "%C3%28", "%00", "%ED%A0%80", "<script>", "'%20OR%201=1--", new('q', 2_000), "%E2%80%AE",
    ];

    public static IEnumerable<HostileCase> For(RouteExample example, Random random)
    {
        var path = example.Path;
        var query = example.Query;
        string Url(string q) => q.Length == 0 ? path : path + "?" + q;
        var body = example.Body is null ? null : Encoding.UTF8.GetBytes(example.Body);

        foreach (var c in Auth(example, Url(query), body))
        {
            yield return c;
        }

        foreach (var (what, q) in Queries(query, random))
        {
            yield return new(example, what, Url(q), body, body is null ? null : "application/json", false);
        }

        if (path.Contains(HostileRoutes.Unknown, StringComparison.Ordinal) || example.NeedsBudget)
        {
            var id = example.NeedsBudget ? "{id}" : HostileRoutes.Unknown;
            foreach (var bad in new[] { "not-a-guid", "00000000-0000-0000-0000-000000000000", "..%2F..%2Fkeys", "1e400", new string('f', 1_000) })
            {
                yield return new(example, $"id {bad[..Math.Min(bad.Length, 20)]}", Url(query).Replace(id, bad, StringComparison.Ordinal), body,
                    body is null ? null : "application/json", false);
            }
        }

        if (example.FewCases)
        {
            yield break;
        }

        if (example.Body is null)
        {
            // A route without a body sent one anyway: ignored or refused, never a 5xx.
            yield return new(example, "unexpected body", Url(query), Encoding.UTF8.GetBytes("{\"a\":"), "application/json", false);
            yield break;
        }

        foreach (var (what, bytes, mustRefuse) in Bodies(example, random))
        {
            yield return new(example, what, Url(query), bytes, "application/json", mustRefuse);
        }

        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "application/xml", "application/json; charset=utf-16" })
        {
            yield return new(example, "content type " + type, Url(query), body, type, false);
        }

        yield return new(example, "no content type", Url(query), body, null, false);
    }

    private static IEnumerable<HostileCase> Auth(RouteExample example, string url, byte[]? body)
    {
        var type = body is null ? null : "application/json";
        foreach (var (what, key) in new[] { ("no key", (string?)null), ("bogus key", "om_bogus_" + new string('a', 40)), ("huge key", new string('k', 4_000)) })
        {
            yield return new(example, what, url, body, type, !example.Anonymous, key);
        }
    }

    private static IEnumerable<(string What, string Query)> Queries(string query, Random random)
    {
        var pairs = query.Length == 0 ? [] : query.Split('&').Select(p => p.Split('=', 2)).Select(p => (Name: p[0], Value: p[1])).ToList();
        string Join(IEnumerable<(string Name, string Value)> items) => string.Join('&', items.Select(p => p.Name + "=" + p.Value));
        foreach (var (name, _) in pairs)
        {
            foreach (var value in QueryValues)
            {
                yield return ($"{name}={value[..Math.Min(value.Length, 20)]}", Join(pairs.Select(p => p.Name == name ? (name, value) : p)));
            }

            yield return ($"{name} twice", Join(pairs.Append((name, "zzz"))));
            yield return ($"{name} missing", Join(pairs.Where(p => p.Name != name)));
        }

        yield return ("junk query", "&&&==&%&=%3D");
        yield return ("unknown parameters", Join(pairs.Concat(Enumerable.Range(0, 200).Select(i => ($"p{i}", random.Next().ToString("x", null))))));
        yield return ("array syntax", Join(pairs.Select(p => (p.Name + "[]", p.Value))));
    }

    private static IEnumerable<(string What, byte[] Body, bool MustRefuse)> Bodies(RouteExample example, Random random)
    {
        var valid = example.Body!;
        byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);
        var root = JsonNode.Parse(valid)!;
        var leaves = Paths(root).ToList();

        foreach (var (path, node) in leaves)
        {
            foreach (var (what, json) in FieldValues)
            {
                yield return ($"{path} = {what}", Bytes(Replace(root, path, json)), false);
            }

            yield return ($"{path} removed", Bytes(Replace(root, path, null)), false);
            yield return ($"{path} deep nesting", Bytes(Replace(root, path,
                string.Concat(Enumerable.Repeat("{\"a\":[", 600)) + "1" + string.Concat(Enumerable.Repeat("]}", 600)))), true);
            if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                // Invalid UTF-8 inside the string: the bytes 0xC3 0x28 (a lead byte without its continuation).
                var text = Replace(root, path, "\"" + Marker + "\"");
                var bytes = Bytes(text).ToList();
                var at = text.IndexOf(Marker, StringComparison.Ordinal);
                bytes.RemoveRange(Encoding.UTF8.GetByteCount(text[..at]), Marker.Length);
                bytes.InsertRange(Encoding.UTF8.GetByteCount(text[..at]), [0xC3, 0x28]);
                // In a batch the event is rejected on its own (207), as documented; anywhere else the request is.
                yield return ($"{path} invalid UTF-8", [.. bytes], !path.StartsWith("events[", StringComparison.Ordinal));
            }
        }

        // A 1 MB string once per route, in its first string field.
        if (leaves.FirstOrDefault(l => l.Node is JsonValue v && v.GetValueKind() == JsonValueKind.String) is { Path: { } first })
        {
            yield return ($"{first} = 1 MB string", Bytes(Replace(root, first, "\"" + new string('m', 1024 * 1024) + "\"")), false);
        }

        yield return ("nulls everywhere", Bytes(NullEverything(root.DeepClone()).ToJsonString()), false);
        foreach (var cut in Enumerable.Range(0, 6).Select(_ => random.Next(1, valid.Length - 1)).Distinct())
        {
            yield return ($"truncated at {cut}", Bytes(valid[..cut]), true);
        }

        foreach (var (what, text) in new[]
        {
            ("not json", "hello"), ("open brace", "{"), ("missing value", "{\"a\":}"), ("missing colon", "{\"a\" 1}"), ("single quotes", "{'a':1}"),
            ("unquoted name", "{a:1}"), ("extra brace", valid + "}"), ("trailing garbage", valid + "garbage"), ("raw control char", "{\"a\":\"\u0001\"}"),
            ("bad escape", "{\"a\":\"\\x41\"}"), ("NaN literal", "{\"a\":NaN}"), ("two documents", valid + valid), ("BOM twice", "\uFEFF\uFEFF" + valid),
        })
        {
            yield return (what, Bytes(text), true);
        }

        foreach (var (what, text) in new[] { ("root null", "null"), ("root array", "[]"), ("root string", "\"x\""), ("root number", "42"), ("empty", "") })
        {
            yield return (what, Bytes(text), false);
        }

        yield return ("duplicate names", Bytes("{" + valid.Trim()[1..^1] + "," + valid.Trim()[1..^1] + "}"), false);
        if (example.Route == "POST /v1/ingest/batch")
        {
            var events = string.Join(',', Enumerable.Range(0, 1001).Select(i => HostileRoutes.Event("over-" + i)));
            yield return ("1001 events", Bytes($$"""{"events":[{{events}}]}"""), true);
            yield return ("no events", Bytes("""{"events":[]}"""), true);
            yield return ("6 MB batch", Bytes($$"""{"events":[{{HostileRoutes.Event(new string('z', 6 * 1024 * 1024))}}]}"""), true);
        }
    }

    private const string Marker = "__hostile_marker__";

    /// <summary>Every property and array item, as a path from the root ("scope.value", "events[1].metadata.team").</summary>
    private static IEnumerable<(string Path, JsonNode? Node)> Paths(JsonNode node, string prefix = "")
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o)
                {
                    var path = prefix.Length == 0 ? name : prefix + "." + name;
                    yield return (path, child);
                    if (child is not null)
                    {
                        foreach (var inner in Paths(child, path))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonArray a:
                // The first item of an array stands for them all (a batch's 1000 events need not each be mutated).
                if (a.Count > 0 && a[0] is { } item)
                {
                    yield return ($"{prefix}[0]", item);
                    foreach (var inner in Paths(item, $"{prefix}[0]"))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    /// <summary>The document with the node at <paramref name="path"/> replaced by the raw JSON text <paramref name="json"/> (removed when null).</summary>
    private static string Replace(JsonNode root, string path, string? json)
    {
        var copy = root.DeepClone();
        var parts = path.Replace("[", ".[", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries);
        var parent = copy;
        foreach (var part in parts[..^1])
        {
            parent = part.StartsWith('[') ? parent[int.Parse(part[1..^1], null)]! : parent[part]!;
        }

        var last = parts[^1];
        var (array, index) = last.StartsWith('[') ? (parent.AsArray(), int.Parse(last[1..^1], null)) : (null, -1);
        if (json is null)
        {
            if (array is null)
            {
                parent.AsObject().Remove(last);
            }
            else
            {
                array.RemoveAt(index);
            }

            return copy.ToJsonString();
        }

        // A marker string first, then the raw text in its place: the text need not be JSON that JsonNode would keep as it is.
        if (array is null)
        {
            parent[last] = Marker;
        }
        else
        {
            array[index] = Marker;
        }

        return copy.ToJsonString().Replace("\"" + Marker + "\"", json, StringComparison.Ordinal);
    }

    private static JsonNode NullEverything(JsonNode node)
    {
        if (node is JsonObject o)
        {
            foreach (var name in o.Select(p => p.Key).ToList())
            {
                if (o[name] is JsonObject or JsonArray)
                {
                    NullEverything(o[name]!);
                }
                else
                {
                    o[name] = null;
                }
            }
        }
        else if (node is JsonArray a)
        {
            for (var i = 0; i < a.Count; i++)
            {
                if (a[i] is JsonObject or JsonArray)
                {
                    NullEverything(a[i]!);
                }
                else
                {
                    a[i] = null;
                }
            }
        }

        return node;
    }
}
