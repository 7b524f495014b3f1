using Npgsql;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres.Schedules;

/// <summary>
/// The schedule tables of one schema and their statements. Their own version table and creation step, apart from
/// the message schema (<see cref="Schema"/>), so the two evolve without touching each other.
/// </summary>
/// <remarks>
/// Times are UTC ticks (bigint), as in the message tables: the cursor is compared for equality, and a timestamptz
/// would round it to microseconds. <c>schedule_runs</c> has one row per occurrence run, unique per schedule and
/// occurrence (Solid Queue's recurring_executions): pending from the claim until the run is recorded, then kept a
/// day as history.
/// </remarks>
internal sealed class ScheduleSql(string s)
{
    public const int Version = 1;

    public const string Columns = "name, queue, cron, time_zone, payload, enabled, misfire, priority, source, cursor, last_occurrence, last_at, last_message_id, last_error";

    private static readonly string[] s_v1 =
    [
        """
        CREATE TABLE {s}.schedules (
            name text PRIMARY KEY,
            queue text NOT NULL,
            cron text NOT NULL,
            time_zone text NOT NULL,
            payload bytea NOT NULL,
            enabled boolean NOT NULL,
            misfire text NOT NULL,
            priority int NOT NULL,
            source text NOT NULL,
            cursor bigint NOT NULL,
            last_occurrence bigint,
            last_at bigint,
            last_message_id text,
            last_error text)
        """,
        """
        CREATE TABLE {s}.schedule_runs (
            schedule text NOT NULL REFERENCES {s}.schedules (name) ON DELETE CASCADE,
            occurrence bigint NOT NULL,
            node bigint NOT NULL,
            planned_id text NOT NULL,
            claimed_at timestamptz NOT NULL DEFAULT now(),
            adopted int NOT NULL DEFAULT 0,
            finished_at timestamptz,
            message_id text,
            error text,
            PRIMARY KEY (schedule, occurrence))
        """,
        "CREATE INDEX schedule_runs_pending ON {s}.schedule_runs (node) WHERE finished_at IS NULL",
        "CREATE INDEX schedule_runs_finished ON {s}.schedule_runs (finished_at) WHERE finished_at IS NOT NULL",
    ];

    public readonly string List = $"SELECT {Columns} FROM {s}.schedules ORDER BY name COLLATE \"C\"";

    public readonly string Get = $"SELECT {Columns} FROM {s}.schedules WHERE name = $1";

    /// <summary>Create or replace in one statement: an unchanged timing keeps the stored cursor, a new one starts at $10.</summary>
    public readonly string Put = $"""
        INSERT INTO {s}.schedules AS o (name, queue, cron, time_zone, payload, enabled, misfire, priority, source, cursor)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, cron = excluded.cron, time_zone = excluded.time_zone,
            payload = excluded.payload, enabled = excluded.enabled, misfire = excluded.misfire, priority = excluded.priority,
            source = excluded.source,
            cursor = CASE WHEN o.cron = excluded.cron AND o.time_zone = excluded.time_zone THEN o.cursor ELSE excluded.cursor END
        RETURNING {Columns}
        """;

    public readonly string Delete = $"DELETE FROM {s}.schedules WHERE name = $1";

    /// <summary>
    /// The claim: the cursor moves from $2 to $3 only if it is still $2, and in the same statement the occurrence $4
    /// (if any) gets its pending run (node $5, planned message $6). Returns (cursor moved, run noted); an occurrence
    /// already run (a unique key per schedule and occurrence) is not run again.
    /// </summary>
    public readonly string Claim = $"""
        WITH c AS (UPDATE {s}.schedules SET cursor = $3 WHERE name = $1 AND cursor = $2 RETURNING name),
        r AS (INSERT INTO {s}.schedule_runs (schedule, occurrence, node, planned_id)
              SELECT name, $4::bigint, $5::bigint, $6::text FROM c WHERE $4::bigint IS NOT NULL
              ON CONFLICT (schedule, occurrence) DO NOTHING RETURNING 1)
        SELECT (SELECT count(*) FROM c)::int, (SELECT count(*) FROM r)::int
        """;

    /// <summary>
    /// <see cref="Claim"/> for many schedules at once: arrays of names $1, expected cursors $2, new cursors $3, occurrences
    /// $4 (null: none fires) and planned ids $6, node $5. One row per claim, by its position: (position, won). The
    /// names are distinct (one claim per schedule), so each row is updated at most once. The rows are locked in name
    /// order first (<c>l</c>): replicas claiming overlapping chunks at once wait for each other, never deadlock.
    /// </summary>
    public readonly string ClaimMany = $"""
        WITH i AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $6::text[]) WITH ORDINALITY
                   AS i(name, expected, cursor, occurrence, planned_id, n)),
        l AS (SELECT s.name FROM {s}.schedules s JOIN i ON s.name = i.name AND s.cursor = i.expected ORDER BY s.name COLLATE "C" FOR UPDATE OF s),
        c AS (UPDATE {s}.schedules s SET cursor = i.cursor FROM l, i WHERE s.name = l.name AND i.name = l.name AND s.cursor = i.expected RETURNING s.name),
        r AS (INSERT INTO {s}.schedule_runs (schedule, occurrence, node, planned_id)
              SELECT i.name, i.occurrence, $5::bigint, i.planned_id FROM i JOIN c ON c.name = i.name WHERE i.occurrence IS NOT NULL
              ON CONFLICT (schedule, occurrence) DO NOTHING RETURNING schedule)
        SELECT i.n, c.name IS NOT NULL AND (i.occurrence IS NULL OR r.schedule IS NOT NULL)
        FROM i LEFT JOIN c ON c.name = i.name LEFT JOIN r ON r.schedule = i.name
        """;

    /// <summary>
    /// Takes over the pending runs of replicas that stopped or fell silent past the lease ($2), and this replica's own
    /// left by a failed pass; the row lock makes each one adopted by exactly one replica.
    /// </summary>
    public readonly string Adopt = $"""
        UPDATE {s}.schedule_runs r SET node = $1, adopted = r.adopted + 1
        WHERE r.finished_at IS NULL AND (r.node = $1 OR NOT EXISTS (
            SELECT 1 FROM {s}.nodes n WHERE n.id = r.node AND n.stopped_at IS NULL AND n.heartbeat_at >= now() - $2::interval))
        RETURNING r.schedule, r.occurrence, r.planned_id
        """;

    /// <summary>The last run moves forward only (an adopted older occurrence finishing late does not hide a newer one).</summary>
    public readonly string Record = $"""
        WITH u AS (
            UPDATE {s}.schedules SET last_occurrence = $2::bigint, last_at = $3, last_message_id = $4::text, last_error = $5::text
            WHERE name = $1 AND ($2::bigint IS NULL OR last_occurrence IS NULL OR last_occurrence <= $2) RETURNING 1)
        UPDATE {s}.schedule_runs SET finished_at = now(), message_id = $4, error = $5
        WHERE schedule = $1 AND occurrence = $2 AND finished_at IS NULL
        """;

    /// <summary><see cref="Record"/> for many runs at once: arrays of names, occurrences, times, message ids and errors.</summary>
    public readonly string RecordMany = $"""
        WITH i AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS i(name, occurrence, at, message_id, error)),
        u AS (
            UPDATE {s}.schedules s SET last_occurrence = i.occurrence, last_at = i.at, last_message_id = i.message_id, last_error = i.error
            FROM i WHERE s.name = i.name AND (i.occurrence IS NULL OR s.last_occurrence IS NULL OR s.last_occurrence <= i.occurrence) RETURNING 1)
        UPDATE {s}.schedule_runs r SET finished_at = now(), message_id = i.message_id, error = i.error
        FROM i WHERE r.schedule = i.name AND r.occurrence = i.occurrence AND r.finished_at IS NULL
        """;

    public readonly string Prune = $"DELETE FROM {s}.schedule_runs WHERE finished_at < now() - interval '1 day'";

    /// <summary>Creates the schedule tables once per schema, under an advisory lock; refuses a newer version of them.</summary>
    public static void Migrate(NpgsqlDataSource db, string schema)
    {
        using var conn = db.OpenConnection();
        var lockKey = Sql.LockKey("schedule-schema", schema);
        Exec(conn, null, "SELECT pg_advisory_lock($1)", lockKey);
        try
        {
            Exec(conn, null, $"CREATE TABLE IF NOT EXISTS {schema}.schedule_schema_version (version int NOT NULL)");
            using var read = new NpgsqlCommand($"SELECT max(version) FROM {schema}.schedule_schema_version", conn);
            var found = read.ExecuteScalar() is int v ? v : 0;
            if (found > Version)
            {
                throw new StorageUnavailableException(
                    $"The PostgreSQL schedule tables in schema '{schema}' are at version {found}, newer than this build's {Version}: refusing to use them. Run a newer QueueApi.");
            }

            if (found < 1)
            {
                using var tx = conn.BeginTransaction();
                foreach (var ddl in s_v1)
                {
                    Exec(conn, tx, ddl.Replace("{s}", schema, StringComparison.Ordinal));
                }

                Exec(conn, tx, $"INSERT INTO {schema}.schedule_schema_version (version) VALUES ({Version})");
                tx.Commit();
            }
        }
        finally
        {
            Exec(conn, null, "SELECT pg_advisory_unlock($1)", lockKey);
        }
    }

    private static void Exec(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, params object[] args)
    {
        using var cmd = Sql.Command(conn, sql, tx, args);
        cmd.ExecuteNonQuery();
    }
}
