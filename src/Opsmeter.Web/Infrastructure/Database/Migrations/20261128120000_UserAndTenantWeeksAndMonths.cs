using Microsoft.EntityFrameworkCore.Migrations;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Usage;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <summary>
    /// Weekly ('w') and monthly ('m') rollup rows for userId and tenantId, so a 90-day user or tenant table sums about
    /// 4 rows per value instead of 90; and usage_rollups partitioned by period, so reading those rows scans their own
    /// partition (a tenth of the table at 10 million events) instead of the whole table. Everything happens under the
    /// rollup_state row lock, so the rollup worker (on any node) cannot fold events in between: the weekly and monthly
    /// rows are summed from the daily ones and match them exactly.
    /// </summary>
    public partial class UserAndTenantWeeksAndMonths : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"""
                SELECT 1 FROM rollup_state WHERE name = 'usage' FOR UPDATE;
                ALTER TABLE usage_rollups RENAME TO usage_rollups_unpartitioned;
                ALTER INDEX usage_rollups_pkey RENAME TO usage_rollups_unpartitioned_pkey;
                CREATE TABLE usage_rollups (LIKE usage_rollups_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                    PRIMARY KEY (workspace_id, dimension, period, bucket, data_mode, environment, value)) PARTITION BY LIST (period);
                CREATE TABLE usage_rollups_hourly PARTITION OF usage_rollups FOR VALUES IN ('h');
                CREATE TABLE usage_rollups_daily PARTITION OF usage_rollups FOR VALUES IN ('d');
                CREATE TABLE usage_rollups_weekly PARTITION OF usage_rollups FOR VALUES IN ('w');
                CREATE TABLE usage_rollups_monthly PARTITION OF usage_rollups FOR VALUES IN ('m');
                -- Only hourly and daily rows: weekly and monthly ones are summed afresh below, whatever a newer worker
                -- may have written into the old table before this ran.
                INSERT INTO usage_rollups SELECT * FROM usage_rollups_unpartitioned WHERE period IN ('h', 'd');
                DROP TABLE usage_rollups_unpartitioned;
                INSERT INTO usage_rollups (workspace_id, dimension, period, bucket, data_mode, environment, value, {UsageRollupSql.Measures}, {UsageRollupSql.BucketColumns})
                SELECT workspace_id, dimension, u.period, date_trunc(u.unit, bucket, 'UTC'), data_mode, environment, value, {UsageRollupSql.ColumnSums}
                FROM usage_rollups CROSS JOIN (VALUES ('w', 'week'), ('m', 'month')) AS u(period, unit)
                WHERE usage_rollups.period = 'd' AND dimension IN ('userId', 'tenantId')
                GROUP BY 1, 2, 3, 4, 5, 6, 7;
                ANALYZE usage_rollups;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                SELECT 1 FROM rollup_state WHERE name = 'usage' FOR UPDATE;
                CREATE TABLE usage_rollups_unpartitioned (LIKE usage_rollups INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                    PRIMARY KEY (workspace_id, dimension, period, bucket, data_mode, environment, value));
                INSERT INTO usage_rollups_unpartitioned SELECT * FROM usage_rollups WHERE period IN ('h', 'd');
                DROP TABLE usage_rollups;
                ALTER TABLE usage_rollups_unpartitioned RENAME TO usage_rollups;
                ALTER INDEX usage_rollups_unpartitioned_pkey RENAME TO usage_rollups_pkey;
                """);
        }
    }
}
