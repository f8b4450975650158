using System.Text.RegularExpressions;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// How a model name that a client sends is turned into the catalog's keys. Providers spell one model
/// many ways: dated snapshots (<c>gpt-4o-2024-08-06</c>), dots or dashes (<c>gpt-4.1</c>/<c>gpt-4-1</c>),
/// route prefixes (<c>openai/gpt-4o</c>, <c>models/gemini-2.5-pro</c>) and Bedrock inference-profile ids
/// (<c>us.anthropic.claude-sonnet-4-5-20250929-v1:0</c>).
/// </summary>
internal static partial class ModelNames
{
    /// <summary>The comparison key: lower case, with '.', '_', ':', '@' and spaces read as '-'.</summary>
    public static string Key(string name)
    {
        var lower = name.Trim().ToLowerInvariant();
        var slash = lower.LastIndexOf('/');
        if (slash >= 0)
        {
            lower = lower[(slash + 1)..];
        }

        return Separators().Replace(lower, "-");
    }

    /// <summary>
    /// The keys to try for <paramref name="name"/>, most specific first: the name itself with its version suffix,
    /// date stamps and "-latest"/"-preview" tags taken off one by one, then the same without Bedrock's region
    /// prefix, then (for ids that carry a vendor, such as Bedrock's "anthropic.") without the vendor.
    /// </summary>
    public static IEnumerable<string> Candidates(string name)
    {
        var key = Key(name);
        // A Bedrock version without a "v" ("openai.gpt-oss-120b-1:0") reads like part of the name once ':' is a '-':
        // take it off while the colon still marks it.
        var unversioned = BedrockVersion().IsMatch(name) ? Key(BedrockVersion().Replace(name.Trim(), "")) : key;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // With the region first (a regional inference profile has rows of its own), then without it.
        foreach (var candidate in Shortenings(key).Concat(Shortenings(unversioned))
                     .Concat(Shortenings(RegionPrefix().Replace(unversioned, ""))))
        {
            if (seen.Add(candidate))
            {
                yield return candidate;
            }
        }

        foreach (var candidate in seen.ToArray())
        {
            var withoutVendor = VendorPrefix().Replace(candidate, "");
            if (withoutVendor != candidate && seen.Add(withoutVendor))
            {
                yield return withoutVendor;
            }
        }
    }

    /// <summary>The vendor named by a Bedrock-style id ("anthropic" for "us.anthropic.claude-…"), if any.</summary>
    public static string? Vendor(string name)
    {
        var match = VendorPrefix().Match(RegionPrefix().Replace(Key(name), ""));
        return match.Success ? match.Groups["vendor"].Value : null;
    }

    /// <summary>
    /// The date stamp a name carries ("2312" in <c>mistral-medium-2312</c>, "20250929" in
    /// <c>us.anthropic.claude-sonnet-4-5-20250929-v1:0</c>), or null: the last date among the tags its shortening takes off.
    /// </summary>
    public static string? DateStamp(string name)
    {
        var current = RegionPrefix().Replace(Key(name), "");
        while (Suffix().Match(current) is { Success: true } match)
        {
            if (Date().IsMatch(match.Value))
            {
                return match.Value.TrimStart('-');
            }

            current = current[..match.Index];
        }

        return null;
    }

    private static IEnumerable<string> Shortenings(string key)
    {
        yield return key;
        var current = key;
        while (Suffix().Match(current) is { Success: true } match)
        {
            current = current[..match.Index];
            yield return current;
        }
    }

    [GeneratedRegex(@"[._:@\s]+")]
    private static partial Regex Separators();

    [GeneratedRegex(@"^(us|eu|apac|ap|global|jp|au|ca|us-gov)-(?=(anthropic|amazon|meta|mistral|cohere|deepseek|ai21|openai|qwen|writer)-)")]
    private static partial Regex RegionPrefix();

    [GeneratedRegex(@"^(?<vendor>anthropic|amazon|meta|mistral|cohere|deepseek|ai21|openai|qwen|writer)-")]
    private static partial Regex VendorPrefix();

    // One trailing tag at a time: a Bedrock version counter ("-v1-0" loses "-0", then "-v1"), a date stamp ("-2024-08-06",
    // "-20250929", "-08-2024", "-05-20", "-2411"), or a moving tag ("-latest", "-preview", "-exp").
    [GeneratedRegex(@"((?<=-v\d+)-\d+|-(v\d+|\d{4}-\d{2}-\d{2}|\d{8}|\d{2}-\d{4}|\d{2}-\d{2}|\d{4}|\d{3}|latest|preview|exp))$")]
    private static partial Regex Suffix();

    [GeneratedRegex(@"-\d+:\d+$")]
    private static partial Regex BedrockVersion();

    [GeneratedRegex(@"^-(\d{4}-\d{2}-\d{2}|\d{8}|\d{2}-\d{4}|\d{2}-\d{2}|\d{4})$")]
    private static partial Regex Date();
}
