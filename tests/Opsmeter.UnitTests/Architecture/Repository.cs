namespace Opsmeter.UnitTests.Architecture;

/// <summary>The repository's own files, found from the test binaries (tests read the repo, never anything outside it).</summary>
internal static class Repository
{
    public static readonly string Root = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Opsmeter.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Opsmeter.sln not found above the test binaries.");
    }
}
