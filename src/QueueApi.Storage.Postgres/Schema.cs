using Npgsql;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// The tables, created and migrated at start-up under an advisory lock so replicas starting together do not race.
/// </summary>
/// <remarks>
/// Status codes are <see cref="Engine.Messages.MessageStatus"/>'s values, plus 7: claimed into a replica's local
/// buffer, not started (shown and counted as queued; put back without a crash if that replica dies).
/// The books: finished buckets are counters, one row per queue and replica (so replicas never wait on each
/// other's counter row), updated in the same transaction as the messages; queued, in flight and retrying are
/// counted from the live rows. No index on the owner: every claim would write one, while only the rare rescue
/// of a dead replica and a stop look rows up by owner.
/// </remarks>
internal static class Schema
{
    /// <summary>The version this build writes: one per entry of <see cref="s_migrations"/>.</summary>
    public static int Version => s_migrations.Length;

    private static readonly string[] s_v1 =
    [
        "CREATE SEQUENCE {s}.message_pos",
        "CREATE SEQUENCE {s}.finish_order",
        """
        CREATE TABLE {s}.messages (
            pos bigint PRIMARY KEY DEFAULT nextval('{s}.message_pos'),
            id text NOT NULL UNIQUE,
            queue text NOT NULL,
            payload bytea NOT NULL,
            status smallint NOT NULL DEFAULT 0,
            attempts int NOT NULL DEFAULT 0,
            crashes int NOT NULL DEFAULT 0,
            claims int NOT NULL DEFAULT 0,
            origin bigint NOT NULL,
            owner bigint,
            worker text,
            enqueued_at bigint NOT NULL,
            started_at bigint,
            completed_at bigint,
            next_attempt_at bigint,
            error text,
            finished bigint)
        """,
        "CREATE INDEX messages_ready ON {s}.messages (queue, pos) WHERE status = 0",
        "CREATE INDEX messages_retained ON {s}.messages (queue, finished) WHERE status IN (3, 4, 6)",
        "CREATE INDEX messages_dead ON {s}.messages (queue, finished) WHERE status = 5",
        """
        CREATE TABLE {s}.nodes (
            id bigserial PRIMARY KEY,
            host text NOT NULL,
            pid int NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            stopped_at timestamptz,
            rescued_at timestamptz,
            workers text NOT NULL DEFAULT '')
        """,
        """
        CREATE TABLE {s}.counts (
            queue text NOT NULL,
            node bigint NOT NULL,
            accepted bigint NOT NULL DEFAULT 0,
            succeeded bigint NOT NULL DEFAULT 0,
            failed bigint NOT NULL DEFAULT 0,
            dead_lettered bigint NOT NULL DEFAULT 0,
            dropped bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (queue, node))
        """,
        "CREATE TABLE {s}.dropped (queue text NOT NULL, reason text NOT NULL, n bigint NOT NULL, PRIMARY KEY (queue, reason))",
        "CREATE TABLE {s}.queues (queue text PRIMARY KEY, paused boolean NOT NULL DEFAULT false)",
    ];

    /// <summary>
    /// 2: issues 15 and 16. The due time (a delayed message is a ready row whose ready_at lies ahead: no status
    /// change when it comes due, so nothing has to wake to promote it), when the message became ready (the aging
    /// base: enqueue, its due time, or a requeue), the priority, the trace parent and the idempotency key. Claims
    /// read one index lane per priority, in ready order. The keys live in their own table, so a key outlives its
    /// message's row (pruned finished rows) for the whole window; prunes note the final status there. What workers
    /// hold is indexed apart, so the room check can leave it out as the other stores do.
    /// </summary>
    private static readonly string[] s_v2 =
    [
        """
        ALTER TABLE {s}.messages ADD COLUMN due_at bigint, ADD COLUMN ready_at bigint,
            ADD COLUMN priority smallint NOT NULL DEFAULT 5, ADD COLUMN trace_parent text, ADD COLUMN idempotency_key text
        """,
        "UPDATE {s}.messages SET ready_at = enqueued_at",
        "ALTER TABLE {s}.messages ALTER COLUMN ready_at SET NOT NULL",
        "DROP INDEX {s}.messages_ready",
        "CREATE INDEX messages_ready ON {s}.messages (queue, priority, ready_at, pos) WHERE status = 0",
        "CREATE INDEX messages_taken ON {s}.messages (queue) WHERE status IN (1, 2, 7)",
        """
        CREATE TABLE {s}.idempotency_keys (
            queue text NOT NULL,
            key text NOT NULL,
            id text NOT NULL,
            request_hash text,
            expires_at bigint NOT NULL,
            final smallint,
            PRIMARY KEY (queue, key))
        """,
        "CREATE INDEX idempotency_keys_expiry ON {s}.idempotency_keys (queue, expires_at)",
    ];

    // Append only: a database at version n runs the entries after its n-th, each in its own transaction.
    private static readonly string[][] s_migrations = [s_v1, s_v2];

    /// <summary>Creates or upgrades the schema; refuses a database written by a newer version.</summary>
    public static void Migrate(NpgsqlDataSource db, string schema)
    {
        using var conn = db.OpenConnection();
        var lockKey = Sql.LockKey("schema", schema);
        Exec(conn, null, "SELECT pg_advisory_lock($1)", lockKey);
        try
        {
            Exec(conn, null, $"CREATE SCHEMA IF NOT EXISTS {schema}");
            Exec(conn, null, $"CREATE TABLE IF NOT EXISTS {schema}.schema_version (version int NOT NULL)");
            using var read = new NpgsqlCommand($"SELECT max(version) FROM {schema}.schema_version", conn);
            var found = read.ExecuteScalar() is int v ? v : 0;
            if (found > Version)
            {
                throw new StorageUnavailableException(
                    $"The PostgreSQL schema '{schema}' is at version {found}, newer than this build's {Version}: refusing to use it. Run a newer QueueApi.");
            }

            for (var version = found + 1; version <= Version; version++)
            {
                using var tx = conn.BeginTransaction();
                foreach (var ddl in s_migrations[version - 1])
                {
                    Exec(conn, tx, ddl.Replace("{s}", schema, StringComparison.Ordinal));
                }

                Exec(conn, tx, $"INSERT INTO {schema}.schema_version (version) VALUES ({version})");
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
        using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }

        cmd.ExecuteNonQuery();
    }
}
