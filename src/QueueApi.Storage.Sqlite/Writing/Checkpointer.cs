using Microsoft.Data.Sqlite;
using QueueApi.Storage.Sqlite.Database;
using SQLitePCL;

namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// Copies the write-ahead log back into the database file from a connection of its own, on the thread pool, so
/// the writer's thread never does it. SQLite's automatic checkpoint runs inside the commit that crosses its
/// threshold (every 1,000 pages by default, a few hundred small commits) and syncs both files there: every
/// request waiting on that group waited for it too. A PASSIVE checkpoint runs beside the writer without
/// blocking it; the writer's own automatic checkpoint stays as a backstop at a much larger log.
/// </summary>
internal sealed class Checkpointer : IDisposable
{
    /// <summary>The writer's fallback: it checkpoints itself only if the log reaches 64 MiB (16,384 pages).</summary>
    public const int BackstopPages = 16_384;

    private const int CommitsPerCheckpoint = 256;
    private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(10);

    private readonly SqliteConnection _connection;
    private readonly ManualResetEventSlim _idle = new(true);
    private int _commits;
    private int _running;
    private long _checkpoints;

    public Checkpointer(SqliteDatabase database) => _connection = database.OpenConnection();

    /// <summary>Checkpoints run so far.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>The writer committed a group (called on its thread only); every so many, a checkpoint starts unless one runs.</summary>
    public void Committed()
    {
        if (++_commits < CommitsPerCheckpoint || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return;
        }

        _commits = 0;
        _idle.Reset();
        ThreadPool.UnsafeQueueUserWorkItem(static c => c.Run(), this, preferLocal: false);
    }

    /// <summary>Waits (bounded) for a running checkpoint, then closes the connection; call after the writer stopped.</summary>
    public void Dispose()
    {
        if (_idle.Wait(DisposeWait))
        {
            _connection.Dispose();
            _idle.Dispose();
        }
    }

    private void Run()
    {
        try
        {
            // Busy or failed (a full disk): the log keeps the commits; the next checkpoint, or the backstop, copies them.
            _ = raw.sqlite3_wal_checkpoint_v2(_connection.Handle!, "main", raw.SQLITE_CHECKPOINT_PASSIVE, out _, out _);
            Interlocked.Increment(ref _checkpoints);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
            _idle.Set();
        }
    }
}
