using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Queues;

/// <summary>
/// One queue kept in the SQLite file. Claims, lookups and the books run on the in-memory store (the fast line,
/// index and rings); the file is the durable record, written by the group-commit writer. A message enters the
/// line only after its row is committed, so 202 means "on disk"; a claim's attempt is committed before its
/// handler runs, so a message that kills the process is counted as a crash. Finishes and retries are written
/// without waiting: a crash before they commit runs the message again (at-least-once).
/// </summary>
internal sealed partial class SqliteQueueStore : IQueueStore, IDisposable
{
    private const string DeletedReason = "deleted from dead letters";

    // Bounds on waiting for the writer: generous, because a commit takes microseconds unless the disk is in trouble.
    private static readonly TimeSpan DefaultCommitWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ClaimCommitWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(10);

    private readonly MemoryQueueStore _memory;
    private readonly GroupCommitWriter _writer;
    private readonly StoredBaseline _baseline;
    private readonly QueueOptions _options;
    private readonly TimeProvider _time;
    private readonly ManualResetEventSlim _intakeIdle = new(false);
    private readonly List<ITimer> _timers = [];
    private int _reserved;
    private int _delayed;
    private int _released;
    private int _enqueuers;
    private volatile bool _accepting = true;

    /// <summary>How long a caller waits for its commit (tests shorten it).</summary>
    internal TimeSpan CommitWait { get; set; } = DefaultCommitWait;

    public SqliteQueueStore(string queueName, QueueOptions options, GroupCommitWriter writer, StoredBaseline baseline, TimeProvider time)
    {
        QueueName = queueName;
        _options = options;
        _writer = writer;
        _baseline = baseline;
        _time = time;
        _memory = new MemoryQueueStore(queueName, options, time);
    }

    public string QueueName { get; }

    public int Capacity => _memory.Capacity;

    public int QueuedCount => _memory.QueuedCount;

    public bool IsAccepting => _accepting;

    public bool IsPaused => _memory.IsPaused;

    public int DeadLetterCount => _memory.DeadLetterCount + _baseline.DeadCount;

    /// <summary>Start-up: puts a stored message back in line without writing it again.</summary>
    internal void Reload(IReadOnlyList<QueueMessage> messages)
    {
        if (_memory.EnqueueBatchAsync(messages, CancellationToken.None).Result != EnqueueStatus.Accepted)
        {
            throw new InvalidOperationException("Reloaded messages must fit: the loader reads at most Capacity.");
        }
    }

    /// <summary>Start-up: a retrying message rejoins the line at its next attempt time, not before.</summary>
    internal void ReloadAt(QueueMessage message, DateTimeOffset nextAttemptAt)
    {
        Interlocked.Increment(ref _reserved);
        Interlocked.Increment(ref _delayed);
        ITimer? timer = null;
        timer = _time.CreateTimer(_ =>
        {
            // A stop in between refuses it: it stays stored as retrying (and counted as such) for the next start.
            if (_accepting && _memory.EnqueueAsync(message, CancellationToken.None).Result == EnqueueStatus.Accepted)
            {
                Interlocked.Decrement(ref _delayed);
                Interlocked.Decrement(ref _reserved);
            }

            timer?.Dispose();
        }, null, Max(nextAttemptAt - _time.GetUtcNow(), TimeSpan.Zero), Timeout.InfiniteTimeSpan);
        lock (_timers)
        {
            _timers.Add(timer);
        }
    }

    internal void RestorePaused(bool paused) => _memory.SetPaused(paused);

    /// <summary>Start-up: a finished message or dead letter of an earlier run stays readable.</summary>
    internal void Keep(QueueMessage message) => _baseline.Keep(message);

    public ValueTask<EnqueueStatus> EnqueueAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.IdempotencyKey is null ? new(Intake(InsertOf(message), null, message, null)) : new(IntakeKeyed([message]));
    }

    public ValueTask<EnqueueStatus> EnqueueBatchAsync(IReadOnlyList<QueueMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return AnyKeyed(messages) ? new(IntakeKeyed(messages)) : new(Intake(default, InsertsOf(messages), null, messages));
    }

    /// <summary>Reserves room, commits the rows, then puts the messages in line. Nothing is in line that is not on disk.</summary>
    private async Task<EnqueueStatus> Intake(WriteOp single, WriteOp[]? many, QueueMessage? one, IReadOnlyList<QueueMessage>? all)
    {
        var n = many?.Length ?? 1;
        Interlocked.Increment(ref _enqueuers);
        try
        {
            if (!_accepting)
            {
                return EnqueueStatus.ShuttingDown;
            }

            if (!TryReserve(n))
            {
                return EnqueueStatus.Full;
            }

            // The request's token is not passed: once the row may commit, the message must also reach the line.
            var unit = _writer.Submit(many is null ? new WriteUnit(single) : new WriteUnit(many));
            if (!await unit.CommittedAsync(CommitWait, () => _ = one is not null ? _memory.EnqueueAsync(one, CancellationToken.None) : _memory.EnqueueBatchAsync(all!, CancellationToken.None)).ConfigureAwait(false))
            {
                Interlocked.Add(ref _reserved, -n);
                return EnqueueStatus.StorageUnavailable;
            }

            // Reserved room and a stop that waits for this intake: the memory store accepts.
            var status = one is not null
                ? await _memory.EnqueueAsync(one, CancellationToken.None).ConfigureAwait(false)
                : await _memory.EnqueueBatchAsync(all!, CancellationToken.None).ConfigureAwait(false);
            Interlocked.Add(ref _reserved, -n);
            return status;
        }
        finally
        {
            if (Interlocked.Decrement(ref _enqueuers) == 0 && !_accepting)
            {
                _intakeIdle.Set();
            }
        }
    }

    private bool TryReserve(int n)
    {
        var reserved = Volatile.Read(ref _reserved);
        while (true)
        {
            if ((long)_memory.QueuedCount + _memory.ScheduledCount + reserved + n > Capacity)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _reserved, reserved + n, reserved);
            if (seen == reserved)
            {
                return true;
            }

            reserved = seen;
        }
    }

    public void StopAccepting()
    {
        _accepting = false;
        if (Volatile.Read(ref _enqueuers) == 0)
        {
            _intakeIdle.Set();
        }

        // Intake in progress waits for a commit at most CommitWait; the bound keeps a stuck disk from hanging the stop.
        _intakeIdle.Wait(StopWait);
        lock (_timers)
        {
            foreach (var timer in _timers)
            {
                timer.Dispose(); // Their messages stay stored as retrying, for the next start.
            }
        }

        _memory.StopAccepting();
    }

    public TakeResult TryClaim(in WorkerSlot worker, out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken, bool spinFirst = false) =>
        _memory.TryClaim(worker, out message, timeout, cancellationToken, spinFirst);

    public bool TryClaimNow(in WorkerSlot worker, out QueueMessage? message) => _memory.TryClaimNow(worker, out message);

    public void Processing(QueueMessage message, in WorkerSlot worker, DateTimeOffset now) => _memory.Processing(message, worker, now);

    public void AttemptStarted(QueueMessage message, in WorkerSlot worker)
    {
        _memory.AttemptStarted(message, worker);
        var key = message.Key;
        var started = message.StartedAt?.UtcTicks ?? _time.GetUtcNow().UtcTicks;
        var committed = _writer.WriteAhead(WriteOp.Claim(key.Ms, key.Seq, QueueName, message.Attempts, started, worker.WorkerId));
        try
        {
            // Before the handler runs: if it kills the process, the next start counts the crash.
            committed.Wait(ClaimCommitWait);
        }
        catch (AggregateException)
        {
            // The disk refused: the row stays queued, so a crash now runs the message again, uncounted. Run it anyway.
        }
    }

    public void Retrying(QueueMessage message, in WorkerSlot worker, DateTimeOffset nextAttemptAt, string? error)
    {
        _memory.Retrying(message, worker, nextAttemptAt, error);
        var key = message.Key;
        _ = _writer.Write(WriteOp.Retry(key.Ms, key.Seq, QueueName, nextAttemptAt.UtcTicks, error));
    }

    public void Finish(QueueMessage message, in WorkerSlot worker, MessageStatus status, string? error, long completedAtUtcTicks)
    {
        var stored = status == MessageStatus.DeadLettered && _options.DeadLetterCapacity == 0 ? MessageStatus.Failed : status;
        var key = message.Key;
        _ = _writer.Write(WriteOp.Finish(key.Ms, key.Seq, QueueName, (StoredStatus)stored, completedAtUtcTicks, error));
        _memory.Finish(message, worker, status, error, completedAtUtcTicks);
    }

    /// <summary>Cancelled by a stop: stored as queued again for the next start (its attempt stays counted).</summary>
    public void Release(QueueMessage message, in WorkerSlot worker, string reason)
    {
        var key = message.Key;
        _ = _writer.Write(WriteOp.Release(key.Ms, key.Seq, QueueName));
        // Queued again, as stored; the memory store's slot still holds it but counts only what is in flight.
        message.Status = MessageStatus.Queued;
        Interlocked.Increment(ref _released);
    }

    /// <summary>
    /// Keeps everything: what is queued (or waiting to retry) is already stored as such, and a message still held
    /// by a worker that never reported (faulted, stuck, abandoned) is stored in flight: the next start counts it
    /// as a crash of that message (the poison rule).
    /// </summary>
    public StopLeftover Settle(string reason)
    {
        var held = _memory.Counts();
        return new(0, _memory.QueuedCount + held.Scheduled + Volatile.Read(ref _delayed) + Volatile.Read(ref _released) + _baseline.Unloaded + held.InFlight + held.Retrying);
    }

    public bool TryGet(string id, out QueueMessage? message) => _memory.TryGet(id, out message) || _baseline.TryGet(id, out message);

    public QueueCounts Counts() => _baseline.AddTo(_memory.Counts(), Volatile.Read(ref _delayed), Volatile.Read(ref _released));

    /// <summary>The line's lanes: what a start reloaded sits in its stored priority's lane.</summary>
    public IReadOnlyList<PriorityLane> Priorities() => _memory.Priorities();

    public IReadOnlyList<QueueMessage> DeadLetters(int limit)
    {
        var older = _baseline.Dead(limit);
        return older.Count >= limit ? older : [.. older, .. _memory.DeadLetters(limit - older.Count)];
    }

    public async ValueTask<DeadLetterResult> RequeueDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        var older = _baseline.TryTakeDead(id, out var message);
        if (!older && !(_memory.TryGet(id, out message) && message!.Status == MessageStatus.DeadLettered))
        {
            return DeadLetterResult.NotFound;
        }

        var result = await RequeueStored(message!, older).ConfigureAwait(false);
        if (older && result != DeadLetterResult.Done)
        {
            _baseline.PutBackDead(message!);
        }

        return result;
    }

    private async Task<DeadLetterResult> RequeueStored(QueueMessage message, bool older)
    {
        if (!_accepting)
        {
            return DeadLetterResult.ShuttingDown;
        }

        if (!TryReserve(1))
        {
            return DeadLetterResult.QueueFull;
        }

        try
        {
            var key = message.Key;
            var now = _time.GetUtcNow();
            await _writer.Write(WriteOp.Requeue(key.Ms, key.Seq, QueueName, now.UtcTicks)).WaitAsync(CommitWait).ConfigureAwait(false);
            if (!older)
            {
                return await _memory.RequeueDeadLetterAsync(message.Id, CancellationToken.None).ConfigureAwait(false);
            }

            message.Status = MessageStatus.Queued;
            message.Attempts = 0;
            message.CompletedAt = null;
            message.StartedAt = null;
            message.WorkerId = null;
            message.EnqueuedAt = now;
            _baseline.Requeued();
            await _memory.EnqueueAsync(message, CancellationToken.None).ConfigureAwait(false);
            return DeadLetterResult.Done;
        }
        catch (Exception ex) when (ex is SqliteStorageException or TimeoutException)
        {
            return DeadLetterResult.StorageUnavailable;
        }
        finally
        {
            Interlocked.Decrement(ref _reserved);
        }
    }

    public async ValueTask<DeadLetterResult> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        var older = _baseline.TryGet(id, out var message) && message!.Status == MessageStatus.DeadLettered;
        if (!older && !(_memory.TryGet(id, out message) && message!.Status == MessageStatus.DeadLettered))
        {
            return DeadLetterResult.NotFound;
        }

        var key = message!.Key;
        try
        {
            await _writer.Write(WriteOp.DeleteDeadLetter(key.Ms, key.Seq, QueueName, DeletedReason)).WaitAsync(CommitWait).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SqliteStorageException or TimeoutException)
        {
            return DeadLetterResult.StorageUnavailable;
        }

        if (!older)
        {
            return await _memory.DeleteDeadLetterAsync(id, cancellationToken).ConfigureAwait(false);
        }

        if (_baseline.TryTakeDead(id, out var taken))
        {
            taken!.Status = MessageStatus.Dropped;
            _baseline.Deleted(DeletedReason);
        }

        return DeadLetterResult.Done;
    }

    public void SetPaused(bool paused)
    {
        // Stored first (bounded), so a crash right after a resume does not come back paused.
        try
        {
            _writer.Write(WriteOp.SetPaused(QueueName, paused)).Wait(ClaimCommitWait);
        }
        catch (AggregateException)
        {
            // The disk refused: the flag holds for this process; the stored one is what the file had.
        }

        _memory.SetPaused(paused);
    }

    public void Dispose()
    {
        lock (_timers)
        {
            foreach (var timer in _timers)
            {
                timer.Dispose();
            }
        }

        _intakeIdle.Dispose();
        _memory.Dispose();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
