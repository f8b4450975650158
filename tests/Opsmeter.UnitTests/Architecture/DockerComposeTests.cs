using System.Text.RegularExpressions;

namespace Opsmeter.UnitTests.Architecture;

/// <summary>
/// docker-compose.yml is a deployment default, so it is held to the safe one: PostgreSQL stays on the compose network and
/// no working password ships with it. Read as text (no Docker engine is needed to check it).
/// </summary>
public sealed partial class DockerComposeTests
{
    private static readonly string Compose = File.ReadAllText(Path.Combine(Repository.Root, "docker-compose.yml"));

    /// <summary>The lines of one service: from its name (two spaces in) to the next service or top-level key.</summary>
    private static string Service(string name)
    {
        var match = Regex.Match(Compose, $@"^  {name}:\r?\n(?<body>(?:(?:    .*)?\r?\n)*)", RegexOptions.Multiline);
        Assert.True(match.Success, $"service '{name}' not found");
        return match.Groups["body"].Value;
    }

    [Fact]
    public void PostgreSQL_publishes_no_port_on_the_host()
    {
        var postgres = Service("postgres");
        Assert.DoesNotContain("ports:", postgres);
        Assert.DoesNotContain("5432:", Compose);
    }

    [Fact]
    public void The_database_password_is_required_and_has_no_default()
    {
        var uses = PasswordUse().Matches(Compose);
        Assert.Equal(2, uses.Count); // the server's password and the app's connection string
        Assert.All(uses, use => Assert.Equal(":?", use.Groups["operator"].Value));
        Assert.DoesNotContain("opsmeter-dev-only", Compose);
    }

    [GeneratedRegex(@"\$\{OPSMETER_DB_PASSWORD(?<operator>:?[-?=+]|)")]
    private static partial Regex PasswordUse();
}
