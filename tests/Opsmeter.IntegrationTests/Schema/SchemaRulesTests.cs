using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Schema;

/// <summary>
/// The schema rule that keeps a move to Citus open (docs/scaling.md): a table that holds a workspace's data has
/// a non-null <c>workspace_id</c>, its primary key and every unique index lead with it, and a foreign key to another
/// such table carries it. Every other table is instance-wide on purpose and says why below, so a new table fails
/// here until it is classified. Read from the catalog of the migrated database (the public schema; Hangfire keeps
/// its own schema).
/// </summary>
[Collection(SharedApp.Name)]
public sealed class SchemaRulesTests(OpsmeterApp app)
{
    /// <summary>Tables kept whole on every node (Citus reference tables) or on the coordinator, and why.</summary>
    private static readonly Dictionary<string, string> InstanceWide = new()
    {
        ["__EFMigrationsHistory"] = "EF Core's record of applied migrations",
        ["workspaces"] = "the workspace list itself, keyed by id (the value the other tables distribute by); small, and referenced by the instance-wide tables below",
        ["users"] = "Identity: a person signs in before a workspace is chosen and may belong to several",
        ["user_claims"] = "Identity, keyed by person",
        ["user_logins"] = "Identity, keyed by person",
        ["user_tokens"] = "Identity, keyed by person",
        ["data_protection_keys"] = "the instance's Data Protection key ring",
        ["instance_settings"] = "settings of the whole instance",
        ["rollup_state"] = "the rollup worker's horizon: one row for the database, not per workspace",
        ["model_prices"] = "the global price catalog (no workspace) read together with workspace overrides by every cost computation",
        ["price_audit"] = "changes to the global catalog (no workspace) as well as to overrides",
        ["audit_log"] = "instance entries have no workspace, and a deleted workspace's entries are kept",
        ["api_keys"] = "a presented key is found by its hash before its workspace is known (unique key_hash); small",
        ["invitations"] = "an invitation link is found by its token hash before its workspace is known (unique token_hash); small",
    };

    [Fact]
    public async Task Every_table_holds_one_workspaces_data_or_is_instance_wide_on_purpose()
    {
        var tables = await QueryAsync("""
            SELECT c.relname,
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped)::text
            FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            """);

        var unclassified = tables.Where(t => t[1] == "false" && !InstanceWide.ContainsKey(t[0])).Select(t => t[0]);
        Assert.Empty(unclassified);
        Assert.Empty(InstanceWide.Keys.Except(tables.Select(t => t[0])));
    }

    [Fact]
    public async Task Workspace_tables_have_a_non_null_workspace_id_that_leads_every_primary_and_unique_key()
    {
        var columns = await QueryAsync("""
            SELECT c.relname, a.attnotnull::text
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            """);
        var keys = await QueryAsync("""
            SELECT c.relname, i.relname, coalesce(a.attname, 'an expression'), x.indisprimary::text
            FROM pg_index x
            JOIN pg_class c ON c.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
            WHERE c.relnamespace = 'public'::regnamespace AND x.indisunique AND NOT c.relispartition
            """);
        var workspaceTables = columns.Select(c => c[0]).Where(t => !InstanceWide.ContainsKey(t)).ToHashSet();

        var nullable = columns.Where(c => workspaceTables.Contains(c[0]) && c[1] == "false").Select(c => $"{c[0]}.workspace_id is nullable");
        var withoutPrimaryKey = workspaceTables.Where(t => !keys.Any(k => k[0] == t && k[3] == "true")).Select(t => $"{t} has no primary key");
        var misled = keys.Where(k => workspaceTables.Contains(k[0]) && k[2] != "workspace_id").Select(k => $"{k[0]}: {k[1]} leads with {k[2]}");

        Assert.Empty(nullable.Concat(withoutPrimaryKey).Concat(misled));
    }

    [Fact]
    public async Task Foreign_keys_between_workspace_tables_carry_workspace_id_and_none_leads_from_an_instance_wide_table_into_one()
    {
        var foreignKeys = await QueryAsync("""
            SELECT con.conname, src.relname, dst.relname, sa.attname, da.attname
            FROM pg_constraint con
            JOIN pg_class src ON src.oid = con.conrelid
            JOIN pg_class dst ON dst.oid = con.confrelid
            JOIN pg_attribute sa ON sa.attrelid = src.oid AND sa.attnum = con.conkey[1]
            JOIN pg_attribute da ON da.attrelid = dst.oid AND da.attnum = con.confkey[1]
            WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace AND con.conparentid = 0 AND NOT src.relispartition
            """);

        // Citus joins and checks a key between two distributed tables on one node only when both sides carry the
        // distribution column; a reference table cannot point into a distributed one at all.
        var broken = foreignKeys
            .Where(fk => !InstanceWide.ContainsKey(fk[2]))
            .Where(fk => InstanceWide.ContainsKey(fk[1]) || fk[3] != "workspace_id" || fk[4] != "workspace_id")
            .Select(fk => $"{fk[0]}: {fk[1]}({fk[3]}, …) -> {fk[2]}({fk[4]}, …)");

        Assert.Empty(broken);
    }

    private async Task<List<string[]>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string[]>();
        while (await reader.ReadAsync())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)]);
        }

        return rows;
    }
}
