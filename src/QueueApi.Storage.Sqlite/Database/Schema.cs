using Microsoft.Data.Sqlite;

namespace QueueApi.Storage.Sqlite.Database;

/// <summary>
/// The schema, versioned with <c>PRAGMA user_version</c>: migration N takes a file from version N-1 to N, all in
/// one transaction at start-up. A file from a newer version is refused, never downgraded.
/// </summary>
internal static class Schema
{
    // Status codes are the engine's MessageStatus values: 0 queued, 1 processing, 2 retrying, 3 succeeded,
    // 4 failed, 5 dead-lettered, 6 dropped, 8 scheduled. Times are UTC ticks.
    private static readonly string[] Migrations =
    [
        // 1: messages keyed by queue and their id's two numbers: ids arrive nearly in order, so inserts append
        // to the right edge of their queue's range, and start-up reads a queue's rows in id order by key. No
        // index on the active rows: the claim order lives in memory. Finished rows are indexed by completion
        // for pruning and listing.
        """
        CREATE TABLE messages (
            id_ms INTEGER NOT NULL,
            id_seq INTEGER NOT NULL,
            queue TEXT NOT NULL,
            payload BLOB NOT NULL,
            status INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            crashes INTEGER NOT NULL DEFAULT 0,
            enqueued_at INTEGER NOT NULL,
            started_at INTEGER,
            completed_at INTEGER,
            next_attempt_at INTEGER,
            worker TEXT,
            error TEXT,
            PRIMARY KEY (queue, id_ms, id_seq)
        ) WITHOUT ROWID;
        CREATE INDEX messages_finished ON messages (queue, completed_at) WHERE status IN (3, 4, 6);
        CREATE INDEX messages_dead ON messages (queue, completed_at) WHERE status = 5;
        CREATE TABLE books (
            queue TEXT NOT NULL,
            counter TEXT NOT NULL,
            value INTEGER NOT NULL,
            PRIMARY KEY (queue, counter)
        ) WITHOUT ROWID;
        CREATE TABLE queues (
            queue TEXT NOT NULL PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        """,

        // 2: issue 15's features. A due time (status 8, scheduled, until due), the trace parent, and the
        // idempotency key and body hash kept with the message; the keys themselves in their own table, so a key
        // outlives its message's row (pruned finished rows) for the whole window. Expired keys are pruned by the
        // writer as keyed messages arrive.
        """
        ALTER TABLE messages ADD COLUMN due_at INTEGER;
        ALTER TABLE messages ADD COLUMN trace_parent TEXT;
        ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
        ALTER TABLE messages ADD COLUMN request_hash TEXT;
        CREATE TABLE idempotency_keys (
            queue TEXT NOT NULL,
            key TEXT NOT NULL,
            id_ms INTEGER NOT NULL,
            id_seq INTEGER NOT NULL,
            request_hash TEXT,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (queue, key)
        ) WITHOUT ROWID;
        CREATE INDEX idempotency_keys_expiry ON idempotency_keys (queue, expires_at);
        """,

        // 3: issue 16's priority, 0-9. Rows of an older file were all enqueued at the default, 5, which is also
        // what a plain insert leaves (it names no priority column, so the default-priority path writes nothing
        // more). No index: the claim order lives in memory, rebuilt from this column at start-up.
        """
        ALTER TABLE messages ADD COLUMN priority INTEGER NOT NULL DEFAULT 5;
        """,

        // 4: plain inserts packed a group at a time (Writing/IntakeLog.cs), expanded into messages rows when first
        // touched.
        """
        CREATE TABLE intake (
            id INTEGER PRIMARY KEY,
            queue TEXT NOT NULL,
            count INTEGER NOT NULL,
            rows BLOB NOT NULL
        );
        """,

        // 5: a packed row's smallest and largest message id, so that a start reads packed messages in place, in id
        // order, and the writer indexes the rows without reading their blobs. The table is made anew so that the
        // bounds come before the blob in each record: columns added at the end would lie behind the blob's overflow
        // pages, and reading them would read every blob (a start with a packed backlog read the whole file twice).
        // Rows a version-4 file left packed have no bounds: they are expanded into messages rows when the file is
        // opened (SqliteDatabase.CheckAndMigrate).
        """
        CREATE TABLE intake_v5 (
            id INTEGER PRIMARY KEY,
            queue TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_ms INTEGER,
            first_seq INTEGER,
            last_ms INTEGER,
            last_seq INTEGER,
            rows BLOB NOT NULL
        );
        INSERT INTO intake_v5 (id, queue, count, rows) SELECT id, queue, count, rows FROM intake;
        DROP TABLE intake;
        ALTER TABLE intake_v5 RENAME TO intake;
        """,
    ];

    public static int CurrentVersion => Migrations.Length;

    /// <summary>The statements that take a file from <paramref name="version"/> - 1 to <paramref name="version"/> (tests build old files with them).</summary>
    internal static string Migration(int version) => Migrations[version - 1];

    /// <summary>Brings the file up to <see cref="CurrentVersion"/>; returns the version it found.</summary>
    public static int Migrate(SqliteConnection connection, string path)
    {
        var found = ReadVersion(connection);
        if (found > CurrentVersion)
        {
            throw new StorageStartupException(
                $"The database file '{path}' has schema version {found}, newer than this build knows ({CurrentVersion}): run a newer QueueApi, or restore a backup for this one.");
        }

        if (found == CurrentVersion)
        {
            return found;
        }

        using var transaction = connection.BeginTransaction();
        for (var version = found + 1; version <= CurrentVersion; version++)
        {
            Execute(connection, transaction, Migrations[version - 1]);
        }

        // PRAGMA takes no parameters; the value is our own constant.
        Execute(connection, transaction, $"PRAGMA user_version = {CurrentVersion};");
        transaction.Commit();
        return found;
    }

    public static int ReadVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
