using System.Buffers.Binary;
using SQLitePCL;

namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// Plain inserts packed into one row of the <c>intake</c> table per queue and group (a batch request's rows, or a
/// group's single enqueues), instead of a <c>messages</c> row each: one B-tree insert where there were dozens, in
/// the same transaction, so 202 still means committed. A packed row is expanded into message rows by the writer,
/// inside the group that first touches one of its messages (a claim, a cancel). A start reads packed messages in
/// place (<see cref="Recovery.PackedMessages"/>) and indexes the rows from their id bounds (<see cref="LoadIndex"/>),
/// so a packed backlog costs a start no expansion. See docs/decisions/0033-packed-intake.md.
/// </summary>
internal sealed class IntakeLog : IDisposable
{
    // Per message: id_ms (8), id_seq (4), enqueued_at (8), payload length (4), then the payload.
    private const int Header = 24;

    private readonly sqlite3 _db;
    private readonly InsertRows _insertRows;
    private readonly RawStatement _insert;
    private readonly RawStatement _delete;
    private readonly RawStatement _read;
    private readonly Dictionary<string, IntakeLane> _lanes = new(StringComparer.Ordinal);
    private readonly List<PackedRow> _added = [];
    private readonly List<PackedRow> _expanded = [];
    private readonly List<PackedEntry> _entries = [];
    private byte[] _buffer = new byte[64 * 1024];

    /// <summary>Writes a packed row's messages as message rows, without counting them again (they were counted when packed).</summary>
    public delegate void InsertRows(string queue, ReadOnlySpan<byte> blob, ReadOnlySpan<PackedEntry> entries);

    public IntakeLog(sqlite3 db, InsertRows insertRows)
    {
        _db = db;
        _insertRows = insertRows;
        _insert = new(db, "INSERT INTO intake (queue, count, rows, first_ms, first_seq, last_ms, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        _delete = new(db, "DELETE FROM intake WHERE id = ?1");
        _read = new(db, "SELECT queue, rows FROM intake WHERE id = ?1");
    }

    /// <summary>Messages packed and not yet expanded, as of the last commit (for tests and benchmarks).</summary>
    public long Pending { get; private set; }

    /// <summary>Packs plain inserts into one queue as one row; the row is known to the index once the group commits.</summary>
    public void Pack(ReadOnlySpan<WriteOp> ops)
    {
        var size = 0;
        var min = new IntakeKey(long.MaxValue, uint.MaxValue);
        var max = new IntakeKey(long.MinValue, 0);
        foreach (ref readonly var op in ops)
        {
            size += Header + op.Payload!.Length;
            var key = new IntakeKey(op.IdMs, op.IdSeq);
            min = key.CompareTo(min) < 0 ? key : min;
            max = key.CompareTo(max) > 0 ? key : max;
        }

        if (_buffer.Length < size)
        {
            _buffer = new byte[Math.Max(size, _buffer.Length * 2)];
        }

        var at = 0;
        foreach (ref readonly var op in ops)
        {
            var span = _buffer.AsSpan(at);
            BinaryPrimitives.WriteInt64LittleEndian(span, op.IdMs);
            BinaryPrimitives.WriteUInt32LittleEndian(span[8..], op.IdSeq);
            BinaryPrimitives.WriteInt64LittleEndian(span[12..], op.Time);
            BinaryPrimitives.WriteInt32LittleEndian(span[20..], op.Payload!.Length);
            op.Payload.CopyTo(span[Header..]);
            at += Header + op.Payload.Length;
        }

        _insert.Bind(1, ops[0].Queue).Bind(2, ops.Length).Bind(3, _buffer.AsSpan(0, size)).Bind(4, min.Ms).Bind(5, (long)min.Seq).Bind(6, max.Ms).Bind(7, (long)max.Seq).Run();
        _added.Add(new PackedRow(raw.sqlite3_last_insert_rowid(_db), ops[0].Queue, min, max, ops.Length));
    }

    /// <summary>Before a change to a message: expands the packed rows that may hold it (usually none, or one).</summary>
    public void Touch(string queue, long idMs, uint idSeq)
    {
        var key = new IntakeKey(idMs, idSeq);
        ExpandAdded(queue, key);

        if (Pending == 0 || !_lanes.TryGetValue(queue, out var lane))
        {
            return;
        }

        foreach (var row in lane.Covering(key))
        {
            Expand(row);
        }
    }

    /// <summary>
    /// Start-up, before anything writes: the packed rows an earlier run left join the index (from their stored id
    /// bounds, without reading their blobs), so the first change to one of their messages expands its row.
    /// </summary>
    public void LoadIndex()
    {
        using var statement = new RawStatement(_db, "SELECT id, queue, count, first_ms, first_seq, last_ms, last_seq FROM intake WHERE first_ms IS NOT NULL ORDER BY first_ms, first_seq");
        statement.ForEachRow(s =>
        {
            var row = new PackedRow(
                raw.sqlite3_column_int64(s, 0), string.Intern(raw.sqlite3_column_text(s, 1).utf8_to_string()),
                new IntakeKey(raw.sqlite3_column_int64(s, 3), (uint)raw.sqlite3_column_int64(s, 4)),
                new IntakeKey(raw.sqlite3_column_int64(s, 5), (uint)raw.sqlite3_column_int64(s, 6)),
                raw.sqlite3_column_int(s, 2)) { Indexed = true };
            LaneOf(row.Queue).Add(row);
            Pending += row.Count;
        });
    }

    /// <summary>Every packed row of the queue becomes message rows (a start that loads the most urgent first reads rows only).</summary>
    public void ExpandQueue(string queue)
    {
        ExpandAdded(queue, key: null);
        if (_lanes.TryGetValue(queue, out var lane))
        {
            foreach (var row in lane.Open())
            {
                Expand(row);
            }
        }
    }

    /// <summary>
    /// Expands the queue's rows packed earlier in this very group (a caller that sends an insert and its claim
    /// together), which are not indexed yet: those that may hold <paramref name="key"/>, or all of them.
    /// </summary>
    private void ExpandAdded(string queue, IntakeKey? key)
    {
        foreach (var row in _added)
        {
            if (!row.Expanded && string.Equals(row.Queue, queue, StringComparison.Ordinal) &&
                (key is not { } k || (row.Min.CompareTo(k) <= 0 && row.Max.CompareTo(k) >= 0)))
            {
                Expand(row);
            }
        }
    }

    /// <summary>Opening a file: rows packed by a version-4 file (no id bounds, so no index) become message rows.</summary>
    public int ExpandUnbounded()
    {
        var rows = new List<PackedRow>();
        using (var statement = new RawStatement(_db, "SELECT id, queue, count FROM intake WHERE first_ms IS NULL ORDER BY id"))
        {
            statement.ForEachRow(s => rows.Add(new PackedRow(
                raw.sqlite3_column_int64(s, 0), raw.sqlite3_column_text(s, 1).utf8_to_string(), default, default, raw.sqlite3_column_int(s, 2))));
        }

        foreach (var row in rows)
        {
            Expand(row);
        }

        _expanded.Clear();
        return rows.Count;
    }

    /// <summary>The group committed: its packed rows join the index, its expanded ones stay expanded.</summary>
    public void Committed()
    {
        foreach (var row in _expanded)
        {
            if (row.Indexed)
            {
                Pending -= row.Count;
            }
        }

        // A row packed and expanded in the same group never joins the index.
        foreach (var row in _added)
        {
            if (!row.Expanded)
            {
                LaneOf(row.Queue).Add(row);
                row.Indexed = true;
                Pending += row.Count;
            }
        }

        if (_expanded.Count > 0)
        {
            foreach (var lane in _lanes.Values)
            {
                lane.Compact();
            }
        }

        _added.Clear();
        _expanded.Clear();
    }

    /// <summary>The group rolled back: its packed rows never existed, its expansions did not happen.</summary>
    public void RolledBack()
    {
        foreach (var row in _expanded)
        {
            row.Expanded = false;
        }

        _added.Clear();
        _expanded.Clear();
    }

    public void Dispose()
    {
        _insert.Dispose();
        _delete.Dispose();
        _read.Dispose();
    }

    private void Expand(PackedRow row)
    {
        var found = false;
        // The blob stays valid until the statement is reset (at the end of ForEachRow): payloads are bound straight from it.
        _read.Bind(1, row.Id).ForEachRow(statement =>
        {
            found = true;
            var queue = string.Intern(raw.sqlite3_column_text(statement, 0).utf8_to_string());
            var blob = raw.sqlite3_column_blob(statement, 1);
            Parse(blob, _entries);
            _insertRows(queue, blob, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_entries));
        });
        if (!found)
        {
            throw new Microsoft.Data.Sqlite.SqliteException($"The packed intake row {row.Id} the writer expected is not in the file.", raw.SQLITE_CORRUPT);
        }

        _delete.Bind(1, row.Id).Run();
        row.Expanded = true;
        _expanded.Add(row);
    }

    /// <summary>A packed row's messages, in the order they were packed: ids, enqueue times, and where each payload lies in the blob.</summary>
    internal static void Parse(ReadOnlySpan<byte> blob, List<PackedEntry> into)
    {
        into.Clear();
        for (var at = 0; at < blob.Length;)
        {
            var span = blob[at..];
            var length = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
            into.Add(new PackedEntry(
                BinaryPrimitives.ReadInt64LittleEndian(span), BinaryPrimitives.ReadUInt32LittleEndian(span[8..]), BinaryPrimitives.ReadInt64LittleEndian(span[12..]), at + Header, length));
            at += Header + length;
        }
    }

    private IntakeLane LaneOf(string queue)
    {
        if (!_lanes.TryGetValue(queue, out var lane))
        {
            lane = new IntakeLane();
            _lanes.Add(queue, lane);
        }

        return lane;
    }
}
