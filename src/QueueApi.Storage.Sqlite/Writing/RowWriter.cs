using Microsoft.Data.Sqlite;

namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// The writer thread's prepared statements and what one group changes: the rows at once, the books and the
/// finished-row counts summed and written (or forgotten) with the group's commit (or rollback).
/// </summary>
internal sealed class RowWriter : IDisposable
{
    private const string ByKey = " WHERE queue = $q AND id_ms = $ms AND id_seq = $seq";

    private readonly SqliteConnection _connection;
    private readonly Dictionary<(string Queue, string Counter), long> _books = [];
    private readonly Dictionary<string, long> _finishedDelta = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _deadDelta = new(StringComparer.Ordinal);
    private readonly Statement _insert;
    private readonly Statement _claim;
    private readonly Statement _retry;
    private readonly Statement _finish;
    private readonly Statement _release;
    private readonly Statement _crash;
    private readonly Statement _requeue;
    private readonly Statement _delete;
    private readonly Statement _paused;
    private readonly Statement _count;

    public RowWriter(SqliteConnection connection)
    {
        _connection = connection;
        _insert = new(connection, "INSERT INTO messages (id_ms, id_seq, queue, payload, status, enqueued_at) VALUES ($ms, $seq, $q, $p, 0, $t)", "$ms", "$seq", "$q", "$p", "$t");
        _claim = new(connection, "UPDATE messages SET status = 1, attempts = $n, started_at = $t, worker = $w, next_attempt_at = NULL" + ByKey, "$ms", "$seq", "$q", "$n", "$t", "$w");
        _retry = new(connection, "UPDATE messages SET status = 2, next_attempt_at = $next, error = $e" + ByKey, "$ms", "$seq", "$q", "$next", "$e");
        _finish = new(connection, "UPDATE messages SET status = $s, completed_at = $t, error = $e, next_attempt_at = NULL" + ByKey, "$ms", "$seq", "$q", "$s", "$t", "$e");
        _release = new(connection, "UPDATE messages SET status = 0, worker = NULL" + ByKey, "$ms", "$seq", "$q");
        _crash = new(connection, "UPDATE messages SET crashes = crashes + 1" + ByKey, "$ms", "$seq", "$q");
        _requeue = new(connection, "UPDATE messages SET status = 0, attempts = 0, crashes = 0, enqueued_at = $t, started_at = NULL, completed_at = NULL, next_attempt_at = NULL, worker = NULL, error = NULL" + ByKey, "$ms", "$seq", "$q", "$t");
        _delete = new(connection, "DELETE FROM messages" + ByKey, "$ms", "$seq", "$q");
        _paused = new(connection, "INSERT INTO queues (queue, paused) VALUES ($q, $n) ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused", "$q", "$n");
        _count = new(connection, "INSERT INTO books (queue, counter, value) VALUES ($q, $c, $n) ON CONFLICT (queue, counter) DO UPDATE SET value = value + excluded.value", "$q", "$c", "$n");
    }

    /// <summary>Finished rows (succeeded, failed, dropped) stored per queue, as of the last commit.</summary>
    public Dictionary<string, long> Finished { get; } = new(StringComparer.Ordinal);

    /// <summary>Dead letters stored per queue, as of the last commit.</summary>
    public Dictionary<string, long> Dead { get; } = new(StringComparer.Ordinal);

    public SqliteTransaction Begin()
    {
        var transaction = _connection.BeginTransaction();
        foreach (var statement in Statements())
        {
            statement.Command.Transaction = transaction;
        }

        return transaction;
    }

    public void Apply(in WriteOp op)
    {
        switch (op.Kind)
        {
            case WriteKind.Insert:
                _insert.Run(op.IdMs, op.IdSeq, op.Queue, op.Payload!, op.Time);
                AddBooks(op.Queue, WriteOp.Accepted, 1);
                break;
            case WriteKind.Claim:
                _claim.Run(op.IdMs, op.IdSeq, op.Queue, op.Number, op.Time, op.Text);
                break;
            case WriteKind.Retry:
                _retry.Run(op.IdMs, op.IdSeq, op.Queue, op.NextAttemptAt, op.Text);
                break;
            case WriteKind.Finish:
                _finish.Run(op.IdMs, op.IdSeq, op.Queue, (int)op.Status, op.Time, op.Text);
                AddBooks(op.Queue, WriteOp.CounterOf(op.Status, op.Text), 1);
                Add(op.Status == StoredStatus.DeadLettered ? _deadDelta : _finishedDelta, op.Queue, 1);
                break;
            case WriteKind.Release:
                _release.Run(op.IdMs, op.IdSeq, op.Queue);
                break;
            case WriteKind.Crash:
                _crash.Run(op.IdMs, op.IdSeq, op.Queue);
                break;
            case WriteKind.Requeue:
                _requeue.Run(op.IdMs, op.IdSeq, op.Queue, op.Time);
                AddBooks(op.Queue, WriteOp.DeadLettered, -1);
                Add(_deadDelta, op.Queue, -1);
                break;
            case WriteKind.DeleteDeadLetter:
                _delete.Run(op.IdMs, op.IdSeq, op.Queue);
                AddBooks(op.Queue, WriteOp.DeadLettered, -1);
                AddBooks(op.Queue, WriteOp.DroppedPrefix + (op.Text ?? "deleted"), 1);
                Add(_deadDelta, op.Queue, -1);
                break;
            case WriteKind.SetPaused:
                _paused.Run(op.Queue, op.Number);
                break;
            case WriteKind.Count:
                AddBooks(op.Queue, op.Text!, op.Number);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "Unknown write.");
        }
    }

    /// <summary>Writes the group's summed book changes; the last statements before the commit.</summary>
    public void FlushBooks()
    {
        foreach (var ((queue, counter), delta) in _books)
        {
            if (delta != 0)
            {
                _count.Run(queue, counter, delta);
            }
        }
    }

    /// <summary>The group committed: its counts become the totals.</summary>
    public void Committed()
    {
        Merge(_finishedDelta, Finished);
        Merge(_deadDelta, Dead);
        _books.Clear();
    }

    /// <summary>The group rolled back: forget what it would have counted.</summary>
    public void RolledBack()
    {
        _finishedDelta.Clear();
        _deadDelta.Clear();
        _books.Clear();
    }

    public void Dispose()
    {
        foreach (var statement in Statements())
        {
            statement.Command.Dispose();
        }
    }

    private IEnumerable<Statement> Statements() => [_insert, _claim, _retry, _finish, _release, _crash, _requeue, _delete, _paused, _count];

    private void AddBooks(string queue, string counter, long delta)
    {
        ref var value = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_books, (queue, counter), out _);
        value += delta;
    }

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

    /// <summary>A prepared command and its parameters, in order; set and run without allocating a new command.</summary>
    private sealed class Statement
    {
        private readonly SqliteParameter[] _parameters;

        public Statement(SqliteConnection connection, string sql, params string[] names)
        {
            Command = connection.CreateCommand();
            Command.CommandText = sql;
            _parameters = new SqliteParameter[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                _parameters[i] = Command.Parameters.Add(new SqliteParameter { ParameterName = names[i] });
            }
        }

        public SqliteCommand Command { get; }

        public void Run(params ReadOnlySpan<object?> values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                _parameters[i].Value = values[i] ?? DBNull.Value;
            }

            Command.ExecuteNonQuery();
        }
    }
}
