using QueueApi.Storage.Sqlite.Writing;
using SQLitePCL;

namespace QueueApi.Storage.Sqlite.Recovery;

/// <summary>
/// A queue's packed intake messages (<see cref="IntakeLog"/>) as a start reads them: in place, in id order, without
/// expanding them into message rows first (that cost 2 to 3 µs a message, seconds for a packed backlog of millions).
/// Rows come in the order of their smallest id; ids are handed out before the writer packs them, so neighbouring
/// rows overlap a little, and a small heap puts their messages in order: a message is handed out only once no row
/// still unread could hold a smaller id. Every packed message is queued, first attempt, default priority.
/// </summary>
internal sealed class PackedMessages : IDisposable
{
    private readonly RawStatement _order;
    private readonly RawStatement _blob;
    private readonly PriorityQueue<ActiveRow, IntakeKey> _heap = new();
    private readonly List<PackedEntry> _entries = [];
    private bool _more;
    private IntakeKey _nextFirst;

    public PackedMessages(sqlite3 db, string queue)
    {
        // Ids and bounds first, blobs one at a time by id: sorting the rows with their blobs would copy every payload.
        _order = new RawStatement(db, "SELECT id, first_ms, first_seq FROM intake WHERE queue = ?1 AND first_ms IS NOT NULL ORDER BY first_ms, first_seq");
        _blob = new RawStatement(db, "SELECT rows FROM intake WHERE id = ?1");
        _order.Bind(1, queue);
        Step();
    }

    /// <summary>Messages read and not handed out yet: a row or two's worth, not the queue's (tests check it stays so).</summary>
    internal int Buffered => _heap.Count;

    /// <summary>The smallest id not handed out yet; false when there is none.</summary>
    public bool TryPeek(out IntakeKey key)
    {
        // A row that starts at or below the heap's smallest may hold something smaller: read it before answering.
        while (_more && (_heap.Count == 0 || (_heap.TryPeek(out _, out var smallest) && _nextFirst.CompareTo(smallest) <= 0)))
        {
            ReadRow(raw.sqlite3_column_int64(_order.Row, 0));
            Step();
        }

        return _heap.TryPeek(out _, out key);
    }

    /// <summary>Hands out the message <see cref="TryPeek"/> named (from memory: it never waits).</summary>
    public ActiveRow Pop() => _heap.Dequeue();

    // Stryker disable Statement : freeing the statements changes nothing a test can see (the connection closes next)
    public void Dispose()
    {
        _order.Reset();
        _order.Dispose();
        _blob.Dispose();
    }

    // Stryker restore Statement

    private void Step()
    {
        _more = _order.Next();
        if (_more)
        {
            _nextFirst = new IntakeKey(raw.sqlite3_column_int64(_order.Row, 1), (uint)raw.sqlite3_column_int64(_order.Row, 2));
        }
    }

    private void ReadRow(long id)
    {
        _blob.Bind(1, id).ForEachRow(statement =>
        {
            var blob = raw.sqlite3_column_blob(statement, 0);
            IntakeLog.Parse(blob, _entries);
            foreach (var e in _entries)
            {
                var row = new ActiveRow(e.IdMs, e.IdSeq, blob.Slice(e.Offset, e.Length).ToArray(), StoredStatus.Queued, 0, 0, e.EnqueuedAt, null);
                _heap.Enqueue(row, new IntakeKey(e.IdMs, e.IdSeq));
            }
        });
    }
}
