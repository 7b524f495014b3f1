using Microsoft.Data.Sqlite;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Schedules;

/// <summary>
/// Schedules in a SQLite file of their own beside the message database: they survive restarts, and several
/// schedulers (processes or instances) over one file share them. A claim is one conditional UPDATE (the cursor
/// moves only if it is still the one read), so exactly one of them wins each occurrence.
/// </summary>
/// <remarks>
/// A file of its own because the message database is held by one process and written by one group-commit thread;
/// schedules change rarely and are read once per occurrence, so plain pooled connections suffice here. A burst of
/// occurrences comes as one call of many claims and one of many run records, each written in one transaction; and
/// the single claims and records waiting at the same moment share one too (<see cref="Grouped"/>). Each claim's
/// compare-and-set is still decided alone, inside it, and reported only once it is committed. Commits are pressed onto the disk as hard as
/// the message database's (<see cref="SqliteSynchronous"/>).
/// </remarks>
public sealed class SqliteScheduleStore : IScheduleStore
{
    private const string Columns = "name, queue, cron, time_zone, payload, enabled, misfire, priority, source, cursor, last_occurrence, last_at, last_message_id, last_error";

    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly Lock _commit = new();
    private readonly List<GroupedWrite> _waiting = [];

    public SqliteScheduleStore(string path, SqliteSynchronous synchronous = SqliteSynchronous.Full)
    {
        _pragmas = $"PRAGMA busy_timeout = 5000; PRAGMA synchronous = {(synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")};";
        FilePath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = true, DefaultTimeout = 5 }.ToString();
        using var c = Open();
        Execute(c, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS schedules (
                name TEXT PRIMARY KEY, queue TEXT NOT NULL, cron TEXT NOT NULL, time_zone TEXT NOT NULL, payload BLOB NOT NULL,
                enabled INTEGER NOT NULL, misfire INTEGER NOT NULL, priority INTEGER NOT NULL, source INTEGER NOT NULL,
                cursor INTEGER NOT NULL, last_occurrence INTEGER, last_at INTEGER, last_message_id TEXT, last_error TEXT);
            """);
    }

    /// <summary>The schedules file beside a message database: <c>queueapi.db</c> → <c>queueapi.schedules.db</c>.</summary>
    public static string BesideDatabase(string databasePath) => Path.ChangeExtension(databasePath, ".schedules.db");

    public string FilePath { get; }

    public ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken)
    {
        using var c = Open();
        using var cmd = Command(c, $"SELECT {Columns} FROM schedules ORDER BY name");
        using var r = cmd.ExecuteReader();
        var list = new List<StoredSchedule>();
        while (r.Read())
        {
            list.Add(Read(r));
        }

        return new(list);
    }

    public ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken)
    {
        using var c = Open();
        using var cmd = Command(c, $"SELECT {Columns} FROM schedules WHERE name = $name", ("$name", name));
        using var r = cmd.ExecuteReader();
        return new(r.Read() ? Read(r) : null);
    }

    public ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        using var c = Open();
        using var tx = c.BeginTransaction(); // One writer at a time: the read and the write below see the same row.
        var old = GetAsync(definition.Name, cancellationToken).Result;
        var stored = old is not null && old.Definition.SameTimingAs(definition)
            ? old with { Definition = definition }
            : new StoredSchedule(definition, now, old?.LastRun);
        using var cmd = Command(
            c,
            $"INSERT OR REPLACE INTO schedules ({Columns}) VALUES ($name, $queue, $cron, $zone, $payload, $enabled, $misfire, $priority, $source, $cursor, $occ, $at, $id, $error)",
            ("$name", definition.Name), ("$queue", definition.Queue), ("$cron", definition.Cron), ("$zone", definition.TimeZone), ("$payload", definition.Payload),
            ("$enabled", definition.Enabled), ("$misfire", (int)definition.Misfire), ("$priority", definition.Priority), ("$source", (int)definition.Source),
            ("$cursor", stored.Cursor.UtcTicks), ("$occ", stored.LastRun?.Occurrence?.UtcTicks), ("$at", stored.LastRun?.At.UtcTicks),
            ("$id", stored.LastRun?.MessageId), ("$error", stored.LastRun?.Error));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
        tx.Commit();
        return new(stored);
    }

    public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        using var c = Open();
        using var cmd = Command(c, "DELETE FROM schedules WHERE name = $name", ("$name", name));
        return new(cmd.ExecuteNonQuery() == 1);
    }

    public ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken) =>
        new(Grouped([Advance(name, expected, cursor)])[0] == 1);

    public ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(IReadOnlyList<ScheduleClaim> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var rows = Grouped([.. claims.Select(c => Advance(c.Name, c.Expected, c.Cursor))]);
        return new(Array.ConvertAll(rows, n => n == 1));
    }

    public ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        Grouped([Record(name, run)]);
        return ValueTask.CompletedTask;
    }

    public ValueTask RecordRunsAsync(IReadOnlyList<(string Name, ScheduleRun Run)> runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        Grouped([.. runs.Select(r => Record(r.Name, r.Run))]);
        return ValueTask.CompletedTask;
    }

    private static GroupedWrite Advance(string name, DateTimeOffset expected, DateTimeOffset cursor) => new(
        "UPDATE schedules SET cursor = $new WHERE name = $name AND cursor = $expected",
        [("$new", cursor.UtcTicks), ("$name", name), ("$expected", expected.UtcTicks)]);

    private static GroupedWrite Record(string name, ScheduleRun run) => new(
        "UPDATE schedules SET last_occurrence = $occ, last_at = $at, last_message_id = $id, last_error = $error WHERE name = $name",
        [("$occ", run.Occurrence?.UtcTicks), ("$at", run.At.UtcTicks), ("$id", run.MessageId), ("$error", run.Error), ("$name", name)]);

    /// <summary>
    /// Runs the statements in a transaction with every other statement waiting at that moment (whoever gets the
    /// commit gate writes them all), and returns their row counts once that transaction is committed. A failed
    /// transaction fails each of its statements: no claim counts that was not stored.
    /// </summary>
    private int[] Grouped(GroupedWrite[] writes)
    {
        if (writes.Length == 0)
        {
            return [];
        }

        lock (_waiting)
        {
            _waiting.AddRange(writes);
        }

        lock (_commit)
        {
            if (!writes[^1].Done)
            {
                List<GroupedWrite> group;
                lock (_waiting)
                {
                    group = [.. _waiting];
                    _waiting.Clear();
                }

                Commit(group);
            }
        }

        return writes.FirstOrDefault(w => w.Error is not null)?.Error is { } error
            ? throw new SqliteStorageException("The schedule store could not write.", error)
            : Array.ConvertAll(writes, w => w.Rows);
    }

    private void Commit(List<GroupedWrite> group)
    {
        // One prepared command per distinct statement: a burst's thousands of claims differ only in their values.
        var commands = new Dictionary<string, SqliteCommand>(StringComparer.Ordinal);
        try
        {
            using var c = Open();
            using var tx = c.BeginTransaction(deferred: false); // Takes the write lock at once: no upgrade to fail midway.
            foreach (var write in group)
            {
                if (!commands.TryGetValue(write.Sql, out var cmd))
                {
                    cmd = Command(c, write.Sql, write.Parameters);
                    cmd.Transaction = tx;
                    cmd.Prepare();
                    commands[write.Sql] = cmd;
                }

                for (var i = 0; i < write.Parameters.Length; i++)
                {
                    cmd.Parameters[i].Value = write.Parameters[i].Value ?? DBNull.Value;
                }

                write.Rows = cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
#pragma warning disable CA1031 // Handed to each statement's caller, who sees it as its own failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            group.ForEach(w => w.Error = ex);
        }
        finally
        {
            foreach (var cmd in commands.Values)
            {
                cmd.Dispose();
            }
        }

        group.ForEach(w => w.Done = true);
    }

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Execute(c, _pragmas); // Schedulers of several processes wait their turn, boundedly.
        return c;
    }

    private static void Execute(SqliteConnection c, string sql)
    {
        using var cmd = Command(c, sql);
        cmd.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in parameters)
        {
            cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        }

        return cmd;
    }

    private static StoredSchedule Read(SqliteDataReader r)
    {
        var definition = new ScheduleDefinition(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), (byte[])r["payload"], r.GetInt64(5) != 0,
            (MisfirePolicy)r.GetInt32(6), r.GetInt32(7), (ScheduleSource)r.GetInt32(8));
        var run = r.IsDBNull(11) ? null : new ScheduleRun(
            r.IsDBNull(10) ? null : Utc(r.GetInt64(10)), Utc(r.GetInt64(11)), r.IsDBNull(12) ? null : r.GetString(12), r.IsDBNull(13) ? null : r.GetString(13));
        return new StoredSchedule(definition, Utc(r.GetInt64(9)), run);
    }

    private static DateTimeOffset Utc(long ticks) => new(ticks, TimeSpan.Zero);

    private sealed class GroupedWrite(string sql, (string Name, object? Value)[] parameters)
    {
        public string Sql { get; } = sql;

        public (string Name, object? Value)[] Parameters { get; } = parameters;

        public int Rows { get; set; }

        public Exception? Error { get; set; }

        public bool Done { get; set; }
    }
}
