using System.Text.RegularExpressions;

namespace Opsmeter.UnitTests.Architecture;

/// <summary>
/// Features depend on each other one way only: if Ingest uses Policy, Policy never uses Ingest. A pair that imports
/// each other both ways is one feature in two folders, and every change to it touches both. Read from the sources.
/// </summary>
public sealed partial class FeatureDependencyTests
{
    private static readonly string FeaturesFolder = Path.Combine(Repository.Root, "src", "Opsmeter.Web", "Features");

    private static Dictionary<string, HashSet<string>> Imports()
    {
        var imports = new Dictionary<string, HashSet<string>>();
        foreach (var file in Directory.EnumerateFiles(FeaturesFolder, "*.cs", SearchOption.AllDirectories))
        {
            var feature = Path.GetRelativePath(FeaturesFolder, file).Split(Path.DirectorySeparatorChar)[0];
            var used = imports.TryGetValue(feature, out var set) ? set : imports[feature] = [];
            foreach (Match match in FeatureReference().Matches(File.ReadAllText(file)))
            {
                if (match.Groups["feature"].Value != feature)
                {
                    used.Add(match.Groups["feature"].Value);
                }
            }
        }

        return imports;
    }

    [Fact]
    public void No_two_features_import_each_other()
    {
        var imports = Imports();
        var both = imports.SelectMany(a => a.Value.Where(b => imports.GetValueOrDefault(b)?.Contains(a.Key) == true)
            .Select(b => string.CompareOrdinal(a.Key, b) < 0 ? $"{a.Key} <-> {b}" : $"{b} <-> {a.Key}")).Distinct().ToList();
        Assert.True(both.Count == 0, "features importing each other: " + string.Join(", ", both));
    }

    [Fact]
    public void The_shared_event_model_depends_on_no_feature() =>
        Assert.Empty(Imports()["Events"]);

    // A using directive or a fully qualified name; the namespace of a feature is its folder (style.md).
    [GeneratedRegex(@"Opsmeter\.Web\.Features\.(?<feature>[A-Za-z]+)")]
    private static partial Regex FeatureReference();
}
