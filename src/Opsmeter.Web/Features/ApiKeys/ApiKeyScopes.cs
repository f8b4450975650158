namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>The scopes of docs/api.md "Authentication", and the authorization policies that require them.</summary>
internal static class ApiKeyScopes
{
    public const string Ingest = "ingest";
    public const string Read = "read";
    public const string Admin = "admin";
    public static readonly string[] All = [Ingest, Read, Admin];

    public static string Policy(string scope) => "scope:" + scope;
}
