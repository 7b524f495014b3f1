using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using QueueApi.Storage.Sqlite.Database;

namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// The one thread that writes the database. Callers hand it units and wait (bounded) for their tasks; it takes
/// every unit waiting, writes them in one transaction and completes them after the commit, so concurrent
/// requests share a commit and nobody pays a transaction of their own. While it commits, the next group gathers.
/// A failed group is rolled back whole and its units fail with <see cref="SqliteStorageException"/>; the thread
/// lives on and tries the next group.
/// </summary>
public sealed class GroupCommitWriter : IDisposable
{
    private const int MaxUnitsPerGroup = 4096;
    // Bounds a group's transaction (a few milliseconds of inserts), so a claim behind a flood of batches waits for
    // one short group, not for everything queued before it.
    private const int MaxRowsPerGroup = 2048;
    private const int SpinTurns = 40;
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(1);

    private readonly SqliteDatabase _database;
    private readonly ConcurrentQueue<WriteUnit> _pending = new();
    // Claims, written ahead of the intake: a worker waits for its claim's commit before it runs the handler.
    private readonly ConcurrentQueue<WriteUnit> _ahead = new();
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private readonly List<WriteUnit> _group = new(256);
    private readonly List<List<WriteOp>> _plain = [];
    private readonly SqliteConnection _connection;
    private readonly SQLitePCL.sqlite3 _handle;
    private readonly RowWriter _rows;
    private readonly Checkpointer _checkpointer;
    private readonly RetentionPruner _pruner;
    private int _sleeping;
    private long _transactions;
    private long _units;
    private long _faults;
    private long _busyTicks;
    private volatile bool _stopping;
    private volatile bool _closed;
    private volatile string? _lastFault;

    public GroupCommitWriter(SqliteDatabase database, string threadName = "queueapi-sqlite-writer")
    {
        _database = database;
        // The group's writes go through a handle of their own without SQLite's connection mutex; pruning and the
        // counts read at start use an ordinary connection (rare, and never at the same time: one thread).
        _connection = database.OpenConnection();
        _handle = database.OpenWriterHandle();
        // What an earlier run left packed stays packed: indexed here, read in place by the start's queue loads. Indexed
        // with SQLite's default 2 MB cache: the scan reads the whole intake table once (with small packed rows, tens of
        // MB), and memory the cache took for it would stay resident for good.
        _rows = new RowWriter(_handle, database.PackIntake);
        _rows.LoadPacked();

        // 32 MiB of page cache for the handle that writes: the right edge where inserts land and the left edge
        // where claims and finishes update stay in memory even with a million rows queued.
        RawStatement.Execute(_handle, $"PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = {Checkpointer.BackstopPages};");
        using (var backstop = _connection.CreateCommand())
        {
            backstop.CommandText = $"PRAGMA wal_autocheckpoint = {Checkpointer.BackstopPages};";
            backstop.ExecuteNonQuery();
        }

        _checkpointer = new Checkpointer(database);
        _pruner = new RetentionPruner(database.Path, _connection, _rows);
        Thread = new Thread(Run) { Name = threadName, IsBackground = true };
        Thread.Start();
    }

    /// <summary>Transactions committed so far (one per group, plus pruning).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Units committed so far.</summary>
    public long Units => Interlocked.Read(ref _units);

    /// <summary>Stopwatch ticks the thread spent writing groups (and pruning), for benchmarks.</summary>
    public long BusyTicks => Interlocked.Read(ref _busyTicks);

    /// <summary>Messages in packed intake rows not yet expanded, as of the last commit (read on the writer's thread or after it stopped).</summary>
    public long PackedPending => _rows.PackedPending;

    /// <summary>Groups that failed and were rolled back.</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>The last storage fault's message, for readiness; null once a later group commits.</summary>
    public string? LastFault => _lastFault;

    /// <summary>The writer's thread, for the supervisor (and tests) to watch.</summary>
    public Thread Thread { get; }

    public bool IsRunning => Thread.IsAlive && !_closed;

    /// <summary>Test hook: while unset, the writer waits (at most 10 s) before taking a group.</summary>
    internal ManualResetEventSlim? HoldGroups { get; set; }

    /// <summary>Keeps at most <paramref name="finished"/> finished rows and <paramref name="dead"/> dead letters of the queue; older ones are deleted.</summary>
    public void SetRetention(string queue, int finished, int dead = int.MaxValue) => _pruner.SetRetention(queue, finished, dead);

    /// <summary>Queues one row change; the task completes once it is committed.</summary>
    public Task Write(WriteOp op) => Submit(new WriteUnit(op)).Completion;

    /// <summary>
    /// Queues a change someone is waiting on to go on working (a worker's claim): it joins the next group ahead of
    /// every intake unit waiting, so a flood of enqueues cannot starve the workers that drain them.
    /// </summary>
    public Task WriteAhead(WriteOp op) => Submit(new WriteUnit(op, ahead: true)).Completion;

    /// <summary>Queues changes that commit together or not at all (a batch request).</summary>
    public Task Write(IReadOnlyList<WriteOp> ops) => Submit(new WriteUnit(ops)).Completion;

    /// <summary>
    /// Queues a unit (ahead of the intake if it is made so, <see cref="WriteUnit.Ahead"/>) and returns it, so a caller
    /// that stops waiting can abandon it (<see cref="WriteUnit.TryAbandon"/>).
    /// </summary>
    internal WriteUnit Submit(WriteUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        Queue(unit);
        return unit;
    }

    /// <summary>Writes what is pending, then stops the thread; false if it did not finish in time.</summary>
    public bool Stop(TimeSpan timeout)
    {
        _stopping = true;
        _signal.Set();
        var joined = Thread.Join(timeout);
        _closed = true;
        FailPending();
        return joined;
    }

    public void Dispose()
    {
        if (!Stop(TimeSpan.FromSeconds(10)))
        {
            return; // The thread still uses the connection: leave it to the process's end.
        }

        _rows.Dispose();
        _handle.Dispose();
        _checkpointer.Dispose();
        _connection.Dispose();
        _signal.Dispose();
    }

    private void Queue(WriteUnit unit)
    {
        if (_closed || _stopping)
        {
            unit.Fail(new SqliteStorageException($"The database file '{_database.Path}' is closed: the service is stopping."));
            return;
        }

        (unit.Ahead ? _ahead : _pending).Enqueue(unit);
        // Pairs with the writer's fence between announcing its sleep and its last look: no wake-up is lost.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) != 0)
        {
            _signal.Set();
        }

        if (_closed)
        {
            FailPending(); // Raced with Stop: nobody will write it.
        }
    }

    private void Run()
    {
        while (true)
        {
            var claims = _ahead.TryDequeue(out var first);
            if (!claims && !_pending.TryDequeue(out first))
            {
                if (_stopping)
                {
                    return;
                }

                if (SpinForWork())
                {
                    continue;
                }

                Volatile.Write(ref _sleeping, 1);
                Interlocked.MemoryBarrier();
                if (_pending.IsEmpty && _ahead.IsEmpty && !_stopping)
                {
                    _signal.Wait(IdleWait);
                }

                _signal.Reset();
                Volatile.Write(ref _sleeping, 0);
                continue;
            }

            // Test hook: lets a test gather a group before it is written.
            HoldGroups?.Wait(TimeSpan.FromSeconds(10));
            var start = Stopwatch.GetTimestamp();
            // A unit whose caller already gave up (and answered "not kept") must not be written after all.
            if (first!.TryTake())
            {
                _group.Add(first);
            }

            var rows = _group.Count == 0 ? 0 : first.Count;
            while (_group.Count < MaxUnitsPerGroup && _ahead.TryDequeue(out var claim))
            {
                if (claim.TryTake())
                {
                    _group.Add(claim);
                    rows++;
                }
            }

            // Claims waiting commit on their own, at once: their workers wait on them, the intake's callers less so.
            while (!claims && _group.Count < MaxUnitsPerGroup && rows < MaxRowsPerGroup && _pending.TryDequeue(out var next))
            {
                if (next.TryTake())
                {
                    _group.Add(next);
                    rows += next.Count;
                }
            }

            if (_group.Count == 0)
            {
                continue;
            }

            CommitGroup();
            _group.Clear();
            switch (_pruner.PruneOne(out var pruneFault))
            {
                case true:
                    Interlocked.Increment(ref _transactions);
                    break;
                case false:
                    _lastFault = pruneFault;
                    break;
            }
            Interlocked.Add(ref _busyTicks, Stopwatch.GetTimestamp() - start);
        }
    }

    /// <summary>
    /// Looks for work a little longer before sleeping: on a busy box a blocked thread waits its turn to be scheduled
    /// again, so each sleep between two close requests costs their callers far more than this short spin (which
    /// yields the core to others after the first few turns).
    /// </summary>
    private bool SpinForWork()
    {
        var spinner = default(SpinWait);
        for (var i = 0; i < SpinTurns; i++)
        {
            if (!_pending.IsEmpty || !_ahead.IsEmpty || _stopping)
            {
                return true;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return false;
    }

    private void CommitGroup()
    {
        try
        {
            _rows.Begin();
            try
            {
                ApplyGroup();
                _rows.FlushBooks();
                _rows.Commit();
            }
            catch
            {
                _rows.Rollback();
                throw;
            }

            _rows.Committed();
            _checkpointer.Committed();
            _lastFault = null;
            var transaction = Interlocked.Increment(ref _transactions);
            Interlocked.Add(ref _units, _group.Count);
            foreach (var unit in _group)
            {
                unit.Transaction = transaction;
            }

            WriteUnit.CompleteGroup(_group, null);
        }
#pragma warning disable CA1031 // The writer must outlive any fault of one group: its units fail, the thread goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _rows.RolledBack();
            Interlocked.Increment(ref _faults);
            var error = new SqliteStorageException($"The database file '{_database.Path}' could not be written ({ex.Message.TrimEnd('.')}): nothing of this request was kept; try again later.", ex);
            _lastFault = error.Message;
            WriteUnit.CompleteGroup(_group, error);
        }
    }

    /// <summary>
    /// Writes the group's units; single plain inserts (concurrent single enqueues) are gathered per queue and go in
    /// last, by multi-row statements: one statement run per 16 rows instead of one per row. Moving them after the
    /// group's other changes is safe: those touch only rows committed by earlier groups (a message is claimed,
    /// finished or cancelled only after its insert committed), and the group commits or rolls back whole.
    /// </summary>
    private void ApplyGroup()
    {
        foreach (var plain in _plain)
        {
            plain.Clear(); // Left over only by a group that failed half-way.
        }

        foreach (var unit in _group)
        {
            if (unit.IsPlainInsert(out var op))
            {
                PlainOf(op.Queue).Add(op);
            }
            else
            {
                unit.ApplyTo(_rows);
            }
        }

        foreach (var plain in _plain)
        {
            if (plain.Count > 0)
            {
                _rows.InsertPlain(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(plain));
                plain.Clear();
            }
        }
    }

    /// <summary>The group's single plain inserts into this queue (a list per queue seen, kept for the next groups).</summary>
    private List<WriteOp> PlainOf(string queue)
    {
        foreach (var plain in _plain)
        {
            if (plain.Count == 0 || ReferenceEquals(plain[0].Queue, queue))
            {
                return plain;
            }
        }

        var added = new List<WriteOp>(64);
        _plain.Add(added);
        return added;
    }

    private void FailPending()
    {
        var left = new List<WriteUnit>();
        while (_ahead.TryDequeue(out var unit) || _pending.TryDequeue(out unit))
        {
            left.Add(unit);
        }

        if (left.Count > 0)
        {
            WriteUnit.CompleteOnPool([.. left], new SqliteStorageException($"The database file '{_database.Path}' is closed: the service is stopping."));
        }
    }
}
