using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Opsmeter.Web.Infrastructure.Database;

/// <summary>Where the embedded default keeps its cluster when no connection string is configured.</summary>
internal sealed class EmbeddedDatabaseOptions
{
    public const string Section = "Opsmeter:EmbeddedDatabase";

    /// <summary>Data folder, relative to the working directory unless absolute.</summary>
    [Required]
    public string DataDirectory { get; set; } = ".opsmeter/postgres";

    /// <summary>Port on 127.0.0.1; 0 picks a free one at each start.</summary>
    [Range(0, 65535)]
    public int Port { get; set; }
}

internal static class DatabaseSetup
{
    public const string ConnectionStringName = "Opsmeter";
    private const string EmbeddedDatabaseName = "opsmeter";

    /// <summary>
    /// Uses <c>ConnectionStrings:Opsmeter</c> when set; otherwise starts the embedded local PostgreSQL
    /// (see <see cref="LocalPostgres"/>) and returns it so the caller stops it when the app ends.
    /// </summary>
    public static LocalPostgres? AddDatabase(this WebApplicationBuilder builder)
    {
        LocalPostgres? embedded = null;
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var options = builder.Configuration.GetSection(EmbeddedDatabaseOptions.Section).Get<EmbeddedDatabaseOptions>() ?? new();
            embedded = LocalPostgres.Start(options.DataDirectory, options.Port);
            embedded.EnsureDatabase(EmbeddedDatabaseName);
            connectionString = embedded.ConnectionString(EmbeddedDatabaseName);
            builder.Configuration[$"ConnectionStrings:{ConnectionStringName}"] = connectionString;
        }

        var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString);
        if (dataSourceBuilder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            // Prepared statements for the SQL each connection runs again and again (the ingest insert
            // above all): PostgreSQL then skips parsing and planning, which measured as most of a small commit.
            dataSourceBuilder.ConnectionStringBuilder.MaxAutoPrepare = 32;
            dataSourceBuilder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        if (string.IsNullOrEmpty(dataSourceBuilder.ConnectionStringBuilder.Options))
        {
            // No JIT: PostgreSQL compiles a query once its estimated cost passes a threshold, and over llm_requests'
            // daily partitions it compiled every partition's scan: the 90-day dashboard took 5.5 s instead of 0.26 s.
            // Opsmeter's queries are short and many; compiling them never pays off.
            dataSourceBuilder.ConnectionStringBuilder.Options = "-c jit=off";
        }

        var dataSource = dataSourceBuilder.Build();
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddDbContext<OpsmeterDbContext>(o => o.UseNpgsql(dataSource).UseSnakeCaseNamingConvention()
            .AddInterceptors(new UnstorableTextInterceptor()));
        return embedded;
    }

    /// <summary>
    /// Opens one connection before anything starts, so that an unreachable server is reported in one
    /// line by Program instead of as start-up failures logged with stack traces.
    /// </summary>
    public static async Task EnsureReachableAsync(this WebApplication app)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
    }
}
