using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Sqlite.Database;
using QueueApi.Storage.Sqlite.Recovery;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Queues;

/// <summary>
/// Keeps every queue in one SQLite file that this process holds alone: durable by default. Opening a queue
/// releases what a dead process left in flight (the poison rule included) and rebuilds the queue from the file.
/// </summary>
public sealed class SqliteStorage : IMessageStorage
{
    private const int ReloadChunk = 4096;
    // A generous bound on expanding a queue's packed backlog at start (2 to 3 µs a message: 10 million in under a minute).
    private static readonly TimeSpan ExpandWait = TimeSpan.FromMinutes(5);

    private readonly SqliteDatabase _database;
    private readonly GroupCommitWriter _writer;
    private readonly StoredState _state;
    private readonly TimeProvider _time;
    private readonly List<SqliteQueueStore> _stores = [];

    /// <summary>Opens the file; a refusal (locked, corrupt, newer schema) is a <see cref="StorageStartupException"/>.</summary>
    public SqliteStorage(SqliteStorageOptions options, string contentRoot, TimeProvider time)
    {
        _time = time;
        _database = SqliteDatabase.Open(options, contentRoot);
        try
        {
            _writer = new GroupCommitWriter(_database);
            _state = new StoredState(_database);
        }
        catch
        {
            _database.Dispose();
            throw;
        }
    }

    public string Provider => "Sqlite";

    public bool IsDurable => true;

    /// <summary>
    /// All of them: due times, keys, trace parents and priorities are stored with the row and reloaded at start-up,
    /// so the line rebuilt then has the memory store's priority lanes (and ages from each message's stored times).
    /// </summary>
    public StoreFeatures Features => StoreFeatures.DelayedDelivery | StoreFeatures.IdempotencyKeys | StoreFeatures.Cancel | StoreFeatures.TraceContext | StoreFeatures.Priorities;

    /// <summary>The database file's full path.</summary>
    public string Path => _database.Path;

    /// <summary>How hard each commit is pressed onto the disk; the schedules file beside it follows.</summary>
    public SqliteSynchronous Synchronous => _database.Synchronous;

    /// <summary>The writer thread, for tests and diagnostics.</summary>
    public GroupCommitWriter Writer => _writer;

    /// <summary>The writer's thread: without it no enqueue, claim or outcome is written, so the supervisor watches it.</summary>
    public IReadOnlyList<Thread> Threads => [_writer.Thread];

    public IQueueStore Open(string queueName, QueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _writer.SetRetention(queueName, options.RetainFinished, options.DeadLetterCapacity);
        var now = _time.GetUtcNow();
        StartupRecovery.Run(_database, queueName, new CrashPolicy(options.MaxCrashes, options.MaxAttempts), now.UtcTicks);

        var ready = new List<QueueMessage>();
        var later = new List<(QueueMessage Message, DateTimeOffset At)>();
        var stored = _state.CountActive(queueName);
        // More than fits: the most urgent are loaded, as a claim would take them; the rest wait for a start with room.
        DateTimeOffset? urgentFirst = stored > options.Capacity ? now : null;
        if (urgentFirst is not null)
        {
            ExpandPacked(queueName);
        }

        _state.ReadActive(queueName, options.Capacity, row =>
        {
            var message = new QueueMessage(new MessageKey(row.IdMs, row.IdSeq), queueName, row.Payload, new DateTimeOffset(row.EnqueuedAt, TimeSpan.Zero))
            {
                Attempts = row.Attempts,
                DueAt = row.DueAt is { } due ? new DateTimeOffset(due, TimeSpan.Zero) : null,
                TraceParent = row.TraceParent,
                Priority = row.Priority,
            };
            if (row.NextAttemptAt is { } next && next > now.UtcTicks)
            {
                later.Add((message, new DateTimeOffset(next, TimeSpan.Zero)));
            }
            else
            {
                ready.Add(message);
            }
        }, urgentFirst, options.PriorityAging);

        // Beyond the capacity, messages stay stored (counted as queued) until a start with room loads them.
        var unloaded = stored - ready.Count - later.Count;
        var baseline = new StoredBaseline(_state.ReadBooks(queueName), ready.Count + later.Count, unloaded);
        var store = new SqliteQueueStore(queueName, options, _writer, baseline, _time);
        for (var i = 0; i < ready.Count; i += ReloadChunk)
        {
            store.Reload(ready.GetRange(i, Math.Min(ReloadChunk, ready.Count - i)));
        }

        foreach (var (message, at) in later)
        {
            store.ReloadAt(message, at);
        }

        foreach (var row in _state.ReadFinished(queueName))
        {
            store.Keep(ToMessage(row));
        }

        // After the reload: a reloaded keyed message is not a repeat of its own key.
        foreach (var key in _state.ReadKeys(queueName, now.UtcTicks))
        {
            store.RestoreKey(key);
        }

        store.RestorePaused(_state.ReadPaused(queueName));
        lock (_stores)
        {
            _stores.Add(store);
        }

        return store;
    }

    /// <summary>
    /// A start that loads the most urgent first: that order is SQL's, over message rows, so the queue's packed
    /// messages become rows first (a rare start). A failure is a refusal to start that names the file, like any other.
    /// </summary>
    private void ExpandPacked(string queueName)
    {
        try
        {
            // Ahead of the intake, and completed on the writer's own thread: this thread blocks, the pool need not help.
            _writer.WriteAhead(WriteOp.ExpandPacked(queueName)).WaitAsync(ExpandWait).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is TimeoutException or SqliteStorageException)
        {
            throw new StorageStartupException(
                $"The database file '{Path}' could not have queue '{queueName}''s packed messages expanded ({ex.Message.TrimEnd('.')}): free disk space, or raise the queue's Capacity above what it holds.", ex);
        }
    }

    public ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        if (!_writer.IsRunning)
        {
            return new(StorageHealth.Failing($"SQLite file '{Path}': the writer thread stopped"));
        }

        return _writer.LastFault is { } fault
            ? new(StorageHealth.Failing(fault))
            : new(StorageHealth.Ok($"SQLite file '{Path}' (synchronous {_database.Synchronous})"));
    }

    /// <summary>Writes what is pending, then closes the file and releases its lock.</summary>
    public void Dispose()
    {
        _writer.Dispose();
        _state.Dispose();
        lock (_stores)
        {
            foreach (var store in _stores)
            {
                store.Dispose();
            }
        }

        _database.Dispose();
    }

    private static QueueMessage ToMessage(StoredMessage row) =>
        new(new MessageKey(row.IdMs, row.IdSeq), row.Queue, row.Payload, new DateTimeOffset(row.EnqueuedAt, TimeSpan.Zero))
        {
            Status = (MessageStatus)row.Status,
            Attempts = row.Attempts,
            StartedAt = row.StartedAt is { } s ? new DateTimeOffset(s, TimeSpan.Zero) : null,
            CompletedAt = row.CompletedAt is { } c ? new DateTimeOffset(c, TimeSpan.Zero) : null,
            WorkerId = row.Worker,
            Error = row.Error,
            DueAt = row.DueAt is { } due ? new DateTimeOffset(due, TimeSpan.Zero) : null,
            TraceParent = row.TraceParent,
            Priority = row.Priority,
        };
}
