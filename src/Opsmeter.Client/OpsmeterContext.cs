namespace Opsmeter.Client;

/// <summary>
/// Ambient attribution for every event tracked inside it, across awaits (AsyncLocal): <c>using var _ =
/// OpsmeterContext.Begin(endpointTag: "support.reply", userId: user.Id);</c>. Scopes nest: an inner scope's values win,
/// the rest come from the outer one; a value set on the event itself wins over both.
/// </summary>
public static class OpsmeterContext
{
    private static readonly AsyncLocal<Attribution?> Ambient = new();

    public static IDisposable Begin(string? endpointTag = null, string? promptVersion = null, string? userId = null, string? tenantId = null)
    {
        var outer = Ambient.Value;
        Ambient.Value = new Attribution(endpointTag ?? outer?.EndpointTag, promptVersion ?? outer?.PromptVersion,
            userId ?? outer?.UserId, tenantId ?? outer?.TenantId);
        return new Scope(outer);
    }

    /// <summary>The attribution in force here, if any.</summary>
    internal static Attribution? Current => Ambient.Value;

    internal sealed record Attribution(string? EndpointTag, string? PromptVersion, string? UserId, string? TenantId);

    private sealed class Scope(Attribution? outer) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (!disposed)
            {
                disposed = true;
                Ambient.Value = outer;
            }
        }
    }
}
