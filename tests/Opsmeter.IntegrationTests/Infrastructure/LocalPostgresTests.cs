using Npgsql;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>The embedded default's PostgreSQL: 127.0.0.1 only, and a password even there (another local user cannot walk in).</summary>
public sealed class LocalPostgresTests : IDisposable
{
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), $"opsmeter-localpg-{Guid.NewGuid():N}");

    [Fact]
    public void A_new_cluster_trusts_nobody_and_asks_for_the_password_it_keeps_in_its_folder()
    {
        using var cluster = LocalPostgres.Start(dataDirectory);

        AssertAsksForPassword(cluster);
        var passwordFile = Path.Combine(dataDirectory, LocalPostgres.PasswordFile);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));
        }
    }

    [Fact]
    public void A_cluster_made_with_trust_gets_a_password_at_its_next_start_and_keeps_its_data()
    {
        using (var old = LocalPostgres.Start(dataDirectory, throwAway: true))
        {
            old.EnsureDatabase("kept");
        }

        Assert.Contains(HbaRules(), rule => rule.Contains("trust", StringComparison.Ordinal));

        using var upgraded = LocalPostgres.Start(dataDirectory);
        AssertAsksForPassword(upgraded);
        using var kept = new NpgsqlConnection(upgraded.ConnectionString("kept"));
        kept.Open();
    }

    private void AssertAsksForPassword(LocalPostgres cluster)
    {
        var rules = HbaRules();
        Assert.NotEmpty(rules);
        Assert.All(rules, rule => Assert.Matches(@"^host\s+all\s+all\s+127\.0\.0\.1/32\s+scram-sha-256$", rule));

        using (var withPassword = new NpgsqlConnection(cluster.ConnectionString()))
        {
            withPassword.Open();
        }

        var builder = new NpgsqlConnectionStringBuilder(cluster.ConnectionString());
        foreach (var wrong in new string?[] { null, "guess" })
        {
            builder.Password = wrong;
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            Assert.ThrowsAny<NpgsqlException>(connection.Open);
        }
    }

    private string[] HbaRules() =>
    [
        .. File.ReadAllLines(Path.Combine(dataDirectory, "pg_hba.conf"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#')),
    ];

    public void Dispose()
    {
        if (Directory.Exists(dataDirectory))
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
