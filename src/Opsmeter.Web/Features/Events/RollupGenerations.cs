namespace Opsmeter.Web.Features.Events;

/// <summary>
/// Each workspace's rollup generation (table usage_rollup_generations). Every change to a workspace's rollup rows of finished
/// days (a fold of late events, re-pricing, retention, deleting demo or test data) moves it on, in the transaction that
/// makes the change. Usage queries keep the sums of finished days' rows by generation: a reader that sees the same
/// generation in its snapshot sees the same rows, on any node.
/// </summary>
internal static class RollupGenerations
{
    /// <summary>Moves on the generation of each workspace that <paramref name="workspaces"/> (<c>SELECT workspace_id, 1</c>, each once) yields.</summary>
    public static string Bump(string workspaces) => $"""
        INSERT INTO usage_rollup_generations AS g (workspace_id, generation) {workspaces}
        ON CONFLICT (workspace_id) DO UPDATE SET generation = g.generation + 1
        """;

    /// <summary>Moves on the generation of the workspace <c>@workspace</c>.</summary>
    public static readonly string BumpWorkspace = Bump("SELECT @workspace::uuid, 1::bigint");

    /// <summary>Where the finished days end for a writer: an event before it changes a finished day's rows.</summary>
    public static DateTimeOffset WriterFinishedBefore(DateTimeOffset now) => Floor(now);

    /// <summary>
    /// Where the finished days end for a reader: an hour later into the new day than for a writer, so that a node whose
    /// clock runs up to an hour ahead of the writer's never keeps a day the writer still counts as today.
    /// </summary>
    public static DateTimeOffset ReaderFinishedBefore(DateTimeOffset now) => Floor(now.AddHours(-1));

    private static DateTimeOffset Floor(DateTimeOffset t) => new(t.UtcDateTime.Date, TimeSpan.Zero);
}
