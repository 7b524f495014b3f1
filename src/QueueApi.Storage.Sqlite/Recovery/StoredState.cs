using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using QueueApi.Storage.Sqlite.Database;
using QueueApi.Storage.Sqlite.Writing;
using SQLitePCL;

namespace QueueApi.Storage.Sqlite.Recovery;

/// <summary>
/// Reads what the file holds: at start-up a queue's active messages in id order (the ready order to rebuild),
/// its retained finished messages and dead letters, its books and pause flag; later, payloads at claim time.
/// Readers use their own connections (WAL lets them read beside the writer), one per thread at a time.
/// </summary>
public sealed class StoredState(SqliteDatabase database) : IDisposable
{
    private readonly ConcurrentBag<PayloadReader> _readers = [];

    /// <summary>
    /// Calls <paramref name="each"/> for the queued or retrying messages of the queue, oldest id first, at most
    /// <paramref name="limit"/> (a queue's capacity: the rest stay stored for a later start): message rows and packed
    /// intake messages (<see cref="PackedMessages"/>) merged in id order. With <paramref name="firstAt"/> (a queue
    /// holding more than it can load), the most urgent come first instead: highest effective priority at that time
    /// (priority plus one per <paramref name="aging"/> waited, at most 9, as a claim ranks them), then oldest. Within
    /// one priority that is still oldest first, so each lane keeps its order. That order reads message rows only:
    /// the caller has the queue's packed rows expanded first (<see cref="WriteOp.ExpandPacked"/>).
    /// </summary>
    public int ReadActive(string queue, int limit, Action<ActiveRow> each, DateTimeOffset? firstAt = null, TimeSpan aging = default)
    {
        var sql = $"""
            SELECT id_ms, id_seq, payload, status, attempts, crashes, enqueued_at, next_attempt_at, due_at, trace_parent, priority FROM messages
            WHERE queue = $q AND status IN (0, 1, 2, 8) ORDER BY {(firstAt is null ? "" : Urgency(aging))}id_ms, id_seq LIMIT $n
            """;
        // Straight through SQLite's C API: a start-up reads every stored message once, and ADO.NET's per-column
        // calls cost about twice as much as the rest of the rebuild (2.3 s of 3.4 s for a million rows).
        using var connection = database.OpenConnection();
        var handle = connection.Handle!;
        // One read transaction: the message rows and the packed rows are the same moment's.
        RawStatement.Execute(handle, "BEGIN");
        using var statement = new RawStatement(handle, sql);
        statement.Bind(statement.ParameterIndex("$q"), queue).Bind(statement.ParameterIndex("$n"), limit);
        // $now and $aging appear only in the urgency order (and $now only when messages age): index 0 means absent.
        if (statement.ParameterIndex("$now") is > 0 and var nowAt)
        {
            statement.Bind(nowAt, firstAt!.Value.UtcTicks);
        }

        if (statement.ParameterIndex("$aging") is > 0 and var agingAt)
        {
            statement.Bind(agingAt, aging.Ticks);
        }

        using var packed = firstAt is null ? new PackedMessages(handle, queue) : null;
        var n = 0;
        var hasRow = statement.Next();
        while (n < limit)
        {
            IntakeKey next = default;
            var hasPacked = packed is not null && packed.TryPeek(out next);
            if (!hasRow && !hasPacked)
            {
                break;
            }

            var order = !hasPacked ? 1 : !hasRow ? -1 : next.CompareTo(new IntakeKey(raw.sqlite3_column_int64(statement.Row, 0), (uint)raw.sqlite3_column_int64(statement.Row, 1)));
            if (order == 0)
            {
                // Never written so (an expansion deletes its packed row in the same transaction); should it be, the
                // row is what later writes changed, and the message is loaded once.
                packed!.Pop();
                continue;
            }

            if (order < 0)
            {
                each(packed!.Pop());
            }
            else
            {
                each(ReadRow(statement.Row));
                hasRow = statement.Next();
            }

            n++;
        }

        statement.Reset();
        RawStatement.Execute(handle, "COMMIT");
        return n;
    }

    private static ActiveRow ReadRow(sqlite3_stmt row) => new(
        raw.sqlite3_column_int64(row, 0), (uint)raw.sqlite3_column_int64(row, 1), raw.sqlite3_column_blob(row, 2).ToArray(),
        (StoredStatus)raw.sqlite3_column_int(row, 3), raw.sqlite3_column_int(row, 4), raw.sqlite3_column_int(row, 5),
        raw.sqlite3_column_int64(row, 6), NullableInt64(row, 7))
    {
        DueAt = NullableInt64(row, 8),
        TraceParent = raw.sqlite3_column_type(row, 9) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(row, 9).utf8_to_string(),
        Priority = raw.sqlite3_column_int(row, 10),
    };

    private static long? NullableInt64(sqlite3_stmt statement, int column) =>
        raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(statement, column);

    // A message waits from its due time if it has one (as the engine ages it), else from its enqueue.
    private static string Urgency(TimeSpan aging) => aging > TimeSpan.Zero
        ? "min(9, priority + max(0, ($now - coalesce(due_at, enqueued_at)) / $aging)) DESC, "
        : "priority DESC, ";

    /// <summary>How many queued or retrying messages the queue has stored, packed intake messages included.</summary>
    public int CountActive(string queue) => Query(
        queue,
        """
        SELECT (SELECT count(*) FROM messages WHERE queue = $q AND status IN (0, 1, 2, 8))
             + (SELECT coalesce(sum(count), 0) FROM intake WHERE queue = $q)
        """,
        command => Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The queue's finished messages still stored (retained ones and dead letters), oldest completion first.</summary>
    public List<StoredMessage> ReadFinished(string queue) => Query(
        queue,
        """
        SELECT id_ms, id_seq, payload, enqueued_at, status, attempts, crashes, started_at, completed_at, worker, error, due_at, trace_parent, priority
        FROM messages WHERE queue = $q AND status IN (3, 4, 5, 6) ORDER BY completed_at
        """,
        command =>
        {
            using var reader = command.ExecuteReader();
            var list = new List<StoredMessage>();
            while (reader.Read())
            {
                list.Add(new StoredMessage(reader.GetInt64(0), (uint)reader.GetInt64(1), queue, (byte[])reader.GetValue(2), reader.GetInt64(3))
                {
                    Status = (StoredStatus)reader.GetInt32(4),
                    Attempts = reader.GetInt32(5),
                    Crashes = reader.GetInt32(6),
                    StartedAt = reader.IsDBNull(7) ? null : reader.GetInt64(7),
                    CompletedAt = reader.IsDBNull(8) ? null : reader.GetInt64(8),
                    Worker = reader.IsDBNull(9) ? null : reader.GetString(9),
                    Error = reader.IsDBNull(10) ? null : reader.GetString(10),
                    DueAt = reader.IsDBNull(11) ? null : reader.GetInt64(11),
                    TraceParent = reader.IsDBNull(12) ? null : reader.GetString(12),
                    Priority = reader.GetInt32(13),
                });
            }

            return list;
        });

    /// <summary>The queue's counters (accepted, succeeded, failed, dead_lettered, dropped:&lt;reason&gt;).</summary>
    public Dictionary<string, long> ReadBooks(string queue) => Query(
        queue,
        "SELECT counter, value FROM books WHERE queue = $q",
        command =>
        {
            using var reader = command.ExecuteReader();
            var books = new Dictionary<string, long>(StringComparer.Ordinal);
            while (reader.Read())
            {
                books[reader.GetString(0)] = reader.GetInt64(1);
            }

            return books;
        });

    /// <summary>
    /// The queue's idempotency keys still live at <paramref name="nowTicks"/>, oldest expiry first, with the
    /// final status of their message if it finished (null while active, or once its row was pruned).
    /// </summary>
    public List<StoredKey> ReadKeys(string queue, long nowTicks) => Query(
        queue,
        """
        SELECT k.key, k.id_ms, k.id_seq, k.request_hash, k.expires_at, m.status FROM idempotency_keys k
        LEFT JOIN messages m ON m.queue = k.queue AND m.id_ms = k.id_ms AND m.id_seq = k.id_seq
        WHERE k.queue = $q AND k.expires_at > $now ORDER BY k.expires_at
        """,
        command =>
        {
            command.Parameters.AddWithValue("$now", nowTicks);
            using var reader = command.ExecuteReader();
            var keys = new List<StoredKey>();
            while (reader.Read())
            {
                var status = reader.IsDBNull(5) ? (StoredStatus?)null : (StoredStatus)reader.GetInt32(5);
                keys.Add(new StoredKey(
                    reader.GetString(0), reader.GetInt64(1), (uint)reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetInt64(4), status is StoredStatus.Succeeded or StoredStatus.Failed or StoredStatus.DeadLettered or StoredStatus.Dropped ? status : null));
            }

            return keys;
        });

    public bool ReadPaused(string queue) =>
        Query(queue, "SELECT paused FROM queues WHERE queue = $q", command => command.ExecuteScalar() is long paused && paused != 0);

    /// <summary>One message's payload (a recovered message's, read when a worker claims it); null if gone.</summary>
    public byte[]? ReadPayload(string queue, long idMs, uint idSeq)
    {
        if (!_readers.TryTake(out var reader))
        {
            reader = new PayloadReader(database.OpenConnection());
        }

        try
        {
            return reader.Read(queue, idMs, idSeq);
        }
        finally
        {
            _readers.Add(reader);
        }
    }

    /// <summary>Runs one query about one queue (<c>$q</c>) on a connection of its own.</summary>
    private T Query<T>(string queue, string sql, Func<SqliteCommand, T> run)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$q", queue);
        return run(command);
    }

    public void Dispose()
    {
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private sealed class PayloadReader : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _queue;
        private readonly SqliteParameter _ms;
        private readonly SqliteParameter _seq;

        public PayloadReader(SqliteConnection connection)
        {
            _connection = connection;
            _command = connection.CreateCommand();
            _command.CommandText = "SELECT payload FROM messages WHERE queue = $q AND id_ms = $ms AND id_seq = $seq";
            _queue = _command.Parameters.Add(new SqliteParameter { ParameterName = "$q" });
            _ms = _command.Parameters.Add(new SqliteParameter { ParameterName = "$ms" });
            _seq = _command.Parameters.Add(new SqliteParameter { ParameterName = "$seq" });
        }

        public byte[]? Read(string queue, long idMs, uint idSeq)
        {
            _queue.Value = queue;
            _ms.Value = idMs;
            _seq.Value = (long)idSeq;
            return _command.ExecuteScalar() as byte[];
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}
