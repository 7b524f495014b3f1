using SQLitePCL;

namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// The writer thread's prepared statements and what one group changes: the rows at once, the books and the
/// finished-row counts summed and written (or forgotten) with the group's commit (or rollback).
/// </summary>
internal sealed class RowWriter : IDisposable
{
    /// <summary>Rows per multi-row insert: one statement run instead of 16 (SQLite allows 32,766 parameters).</summary>
    public const int InsertRun = 16;

    // The sizes of the multi-row inserts prepared, largest first: a run of any length is a few statements (13 = 8 + 4 + 1).
    private static readonly int[] RunSizes = [InsertRun, 8, 4, 2];

    private const string ByKey = " WHERE queue = ?1 AND id_ms = ?2 AND id_seq = ?3";

    private readonly sqlite3 _db;
    private readonly Dictionary<(string Queue, string Counter), long> _books = [];
    private readonly Dictionary<string, long> _finishedDelta = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _deadDelta = new(StringComparer.Ordinal);
    private readonly RawStatement _insert;
    private readonly RawStatement[] _insertRuns;
    private readonly RawStatement _insertExtras;
    private readonly RawStatement _key;
    private readonly RawStatement _pruneKeys;
    private readonly RawStatement _claim;
    private readonly RawStatement _retry;
    private readonly RawStatement _finish;
    private readonly RawStatement _release;
    private readonly RawStatement _crash;
    private readonly RawStatement _requeue;
    private readonly RawStatement _delete;
    private readonly RawStatement _paused;
    private readonly RawStatement _count;
    // Always there: a file may hold packed rows (from a run with PackIntake on) whatever this run packs.
    private readonly IntakeLog _intake;
    private readonly bool _pack;

    // Parameters by position: ?1 queue, ?2 id_ms, ?3 id_seq, then each statement's own.
    /// <param name="connection">The writer's handle; only the writer's thread uses it.</param>
    /// <param name="pack">Plain inserts go into packed intake rows (<see cref="IntakeLog"/>) instead of a row each.</param>
    public RowWriter(sqlite3 connection, bool pack)
    {
        _db = connection;
        _insert = new(connection, "INSERT INTO messages (queue, id_ms, id_seq, payload, status, enqueued_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)");
        _insertRuns = [.. RunSizes.Select(size => new RawStatement(connection, "INSERT INTO messages (queue, id_ms, id_seq, payload, status, enqueued_at) VALUES " +
            string.Join(", ", Enumerable.Range(0, size).Select(r => $"(?{(5 * r) + 1}, ?{(5 * r) + 2}, ?{(5 * r) + 3}, ?{(5 * r) + 4}, 0, ?{(5 * r) + 5})"))))];
        _insertExtras = new(connection, "INSERT INTO messages (queue, id_ms, id_seq, payload, status, enqueued_at, due_at, trace_parent, idempotency_key, request_hash, priority) VALUES (?1, ?2, ?3, ?4, ?6, ?5, ?7, ?8, ?9, ?10, ?11)");
        _key = new(connection, "INSERT INTO idempotency_keys (queue, key, id_ms, id_seq, request_hash, expires_at) VALUES (?1, ?4, ?2, ?3, ?5, ?6) ON CONFLICT (queue, key) DO UPDATE SET id_ms = excluded.id_ms, id_seq = excluded.id_seq, request_hash = excluded.request_hash, expires_at = excluded.expires_at");
        _pruneKeys = new(connection, "DELETE FROM idempotency_keys WHERE queue = ?1 AND expires_at <= ?2");
        _claim = new(connection, "UPDATE messages SET status = 1, attempts = ?4, started_at = ?5, worker = ?6, next_attempt_at = NULL" + ByKey);
        _retry = new(connection, "UPDATE messages SET status = 2, next_attempt_at = ?4, error = ?5" + ByKey);
        _finish = new(connection, "UPDATE messages SET status = ?4, completed_at = ?5, error = ?6, next_attempt_at = NULL" + ByKey);
        _release = new(connection, "UPDATE messages SET status = 0, worker = NULL" + ByKey);
        _crash = new(connection, "UPDATE messages SET crashes = crashes + 1" + ByKey);
        _requeue = new(connection, "UPDATE messages SET status = 0, attempts = 0, crashes = 0, enqueued_at = ?4, started_at = NULL, completed_at = NULL, next_attempt_at = NULL, worker = NULL, error = NULL" + ByKey);
        _delete = new(connection, "DELETE FROM messages" + ByKey);
        _paused = new(connection, "INSERT INTO queues (queue, paused) VALUES (?1, ?2) ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused");
        _count = new(connection, "INSERT INTO books (queue, counter, value) VALUES (?1, ?2, ?3) ON CONFLICT (queue, counter) DO UPDATE SET value = value + excluded.value");
        _intake = new IntakeLog(connection, InsertPacked);
        _pack = pack;
    }

    /// <summary>Messages in packed intake rows not yet expanded, as of the last commit.</summary>
    public long PackedPending => _intake.Pending;

    /// <summary>Start-up, before the first group: the packed rows an earlier run left join the index (see <see cref="IntakeLog.LoadIndex"/>).</summary>
    public void LoadPacked() => _intake.LoadIndex();

    /// <summary>Finished rows (succeeded, failed, dropped) stored per queue, as of the last commit.</summary>
    public Dictionary<string, long> Finished { get; } = new(StringComparer.Ordinal);

    /// <summary>Dead letters stored per queue, as of the last commit.</summary>
    public Dictionary<string, long> Dead { get; } = new(StringComparer.Ordinal);

    public void Begin() => RawStatement.Execute(_db, "BEGIN");

    public void Commit() => RawStatement.Execute(_db, "COMMIT");

    /// <summary>Rolls the group back, if SQLite has not already done so (it may, on a full disk).</summary>
    public void Rollback()
    {
        if (raw.sqlite3_get_autocommit(_db) == 0)
        {
            RawStatement.Execute(_db, "ROLLBACK");
        }
    }

    public void Apply(in WriteOp op)
    {
        if (op.Kind is not (WriteKind.Insert or WriteKind.SetPaused or WriteKind.Count or WriteKind.ExpandPacked))
        {
            // A change to a message whose insert may sit in a packed row: that row becomes message rows first.
            _intake.Touch(op.Queue, op.IdMs, op.IdSeq);
        }

        switch (op.Kind)
        {
            case WriteKind.Insert when op.Extras is { } x:
                InsertWithExtras(op, x);
                AddBooks(op.Queue, WriteOp.Accepted, 1);
                break;
            case WriteKind.Insert:
                Key(_insert, op).Bind(4, op.Payload).Bind(5, op.Time).Run();
                AddBooks(op.Queue, WriteOp.Accepted, 1);
                break;
            case WriteKind.Claim:
                Key(_claim, op).Bind(4, op.Number).Bind(5, op.Time).Bind(6, op.Text).Run();
                break;
            case WriteKind.Retry:
                Key(_retry, op).Bind(4, op.NextAttemptAt).Bind(5, op.Text).Run();
                break;
            case WriteKind.Finish:
                Key(_finish, op).Bind(4, (long)op.Status).Bind(5, op.Time).Bind(6, op.Text).Run();
                AddBooks(op.Queue, WriteOp.CounterOf(op.Status, op.Text), 1);
                Add(op.Status == StoredStatus.DeadLettered ? _deadDelta : _finishedDelta, op.Queue, 1);
                break;
            case WriteKind.Release:
                Key(_release, op).Run();
                break;
            case WriteKind.Crash:
                Key(_crash, op).Run();
                break;
            case WriteKind.Requeue:
                Key(_requeue, op).Bind(4, op.Time).Run();
                AddBooks(op.Queue, WriteOp.DeadLettered, -1);
                Add(_deadDelta, op.Queue, -1);
                break;
            case WriteKind.DeleteDeadLetter:
                Key(_delete, op).Run();
                AddBooks(op.Queue, WriteOp.DeadLettered, -1);
                AddBooks(op.Queue, WriteOp.DroppedPrefix + (op.Text ?? "deleted"), 1);
                Add(_deadDelta, op.Queue, -1);
                break;
            case WriteKind.SetPaused:
                _paused.Bind(1, op.Queue).Bind(2, op.Number).Run();
                break;
            case WriteKind.Count:
                AddBooks(op.Queue, op.Text!, op.Number);
                break;
            case WriteKind.ExpandPacked:
                _intake.ExpandQueue(op.Queue);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "Unknown write.");
        }
    }

    /// <summary>True if the op is a plain insert (no due time, key, trace parent or priority): what <see cref="InsertPlain"/> takes.</summary>
    public static bool IsPlainInsert(in WriteOp op) => op.Kind == WriteKind.Insert && op.Extras is null;

    /// <summary>
    /// Plain inserts into one queue: one packed intake row, or (not packing) as few multi-row statements as the
    /// prepared run sizes allow; the same books either way.
    /// </summary>
    public void InsertPlain(ReadOnlySpan<WriteOp> ops)
    {
        if (_pack)
        {
            _intake.Pack(ops);
        }
        else
        {
            InsertRows(ops);
        }

        AddBooks(ops[0].Queue, WriteOp.Accepted, ops.Length);
    }

    /// <summary>Opening the file: expands the rows a version-4 file left packed (they have no id bounds), in one transaction; how many.</summary>
    public int ExpandUnbounded()
    {
        Begin();
        try
        {
            var n = _intake.ExpandUnbounded();
            Commit();
            return n;
        }
        catch
        {
            Rollback();
            throw;
        }
    }

    /// <summary>Message rows for plain inserts into one queue, by multi-row statements; no books (the caller counts).</summary>
    private void InsertRows(ReadOnlySpan<WriteOp> ops) => InsertRows(new OpRows(ops));

    /// <summary>A packed row's messages as message rows (its expansion); counted when they were packed.</summary>
    private void InsertPacked(string queue, ReadOnlySpan<byte> blob, ReadOnlySpan<PackedEntry> entries) => InsertRows(new PackedRows(queue, blob, entries));

    private void InsertRows<TRows>(scoped in TRows rows)
        where TRows : IRowSource, allows ref struct
    {
        var at = 0;
        var queue = rows.Queue;
        for (var k = 0; k < RunSizes.Length; k++)
        {
            var size = RunSizes[k];
            while (rows.Count - at >= size)
            {
                var statement = _insertRuns[k];
                for (var r = 0; r < size; r++)
                {
                    var p = 5 * r;
                    var i = at + r;
                    statement.Bind(p + 1, queue).Bind(p + 2, rows.IdMs(i)).Bind(p + 3, (long)rows.IdSeq(i)).Bind(p + 4, rows.Payload(i)).Bind(p + 5, rows.EnqueuedAt(i));
                }

                statement.Run();
                at += size;
            }
        }

        // Below the smallest run size: one row at a time.
        for (; at < rows.Count; at++)
        {
            _insert.Bind(1, queue).Bind(2, rows.IdMs(at)).Bind(3, (long)rows.IdSeq(at)).Bind(4, rows.Payload(at)).Bind(5, rows.EnqueuedAt(at)).Run();
        }
    }

    /// <summary>
    /// A message with a due time, trace parent, idempotency key or priority; its key row replaces an expired one of the same
    /// key, and the queue's expired keys are pruned as keyed messages arrive (an indexed range, usually empty).
    /// </summary>
    private void InsertWithExtras(in WriteOp op, InsertExtras x)
    {
        Key(_insertExtras, op).Bind(4, op.Payload).Bind(5, op.Time).Bind(6, x.Scheduled ? (long)StoredStatus.Scheduled : 0L)
            .Bind(7, x.DueAt).Bind(8, x.TraceParent).Bind(9, x.IdempotencyKey).Bind(10, x.RequestHash).Bind(11, (long)x.Priority).Run();
        if (x.IdempotencyKey is not null)
        {
            _pruneKeys.Bind(1, op.Queue).Bind(2, op.Time).Run();
            Key(_key, op).Bind(4, x.IdempotencyKey).Bind(5, x.RequestHash).Bind(6, x.KeyExpiresAt).Run();
        }
    }

    /// <summary>Writes the group's summed book changes; the last statements before the commit.</summary>
    public void FlushBooks()
    {
        foreach (var ((queue, counter), delta) in _books)
        {
            if (delta != 0)
            {
                _count.Bind(1, queue).Bind(2, counter).Bind(3, delta).Run();
            }
        }
    }

    /// <summary>The group committed: its counts become the totals.</summary>
    public void Committed()
    {
        Merge(_finishedDelta, Finished);
        Merge(_deadDelta, Dead);
        _books.Clear();
        _intake.Committed();
    }

    /// <summary>The group rolled back: forget what it would have counted.</summary>
    public void RolledBack()
    {
        _finishedDelta.Clear();
        _deadDelta.Clear();
        _books.Clear();
        _intake.RolledBack();
    }

    public void Dispose()
    {
        foreach (var statement in Statements())
        {
            statement.Dispose();
        }

        _intake.Dispose();
    }

    private IEnumerable<RawStatement> Statements() => [_insert, .. _insertRuns, _insertExtras, _key, _pruneKeys, _claim, _retry, _finish, _release, _crash, _requeue, _delete, _paused, _count];

    private void AddBooks(string queue, string counter, long delta)
    {
        ref var value = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_books, (queue, counter), out _);
        value += delta;
    }

    private static RawStatement Key(RawStatement statement, in WriteOp op) => statement.Bind(1, op.Queue).Bind(2, op.IdMs).Bind(3, (long)op.IdSeq);

    private static void Add(Dictionary<string, long> counts, string queue, long delta)
    {
        ref var value = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, queue, out _);
        value += delta;
    }

    private static void Merge(Dictionary<string, long> delta, Dictionary<string, long> totals)
    {
        foreach (var (queue, n) in delta)
        {
            Add(totals, queue, n);
        }

        delta.Clear();
    }
}
