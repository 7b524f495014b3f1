using System.Collections.Concurrent;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// One queue in the shared database. Intake goes through the group-commit writer; claims take batches of rows
/// (<c>FOR UPDATE SKIP LOCKED</c>) into a small local buffer that the queue's workers share; outcome reports are
/// batched by the outcome writer, guarded by owner and claim. Reads wait for this replica's pending reports, then
/// ask the database, so every replica sees the same statuses, books and dead letters.
/// </summary>
internal sealed partial class PostgresQueueStore : IQueueStore
{
    private readonly PostgresStorage _storage;
    private readonly ClaimBuffer _buffer = new();
    private readonly ClaimFloors _floors;
    private readonly ConcurrentDictionary<QueueMessage, Claim> _claims = new(SameMessage.Instance);
    private readonly object _gate = new();
    private int _version;
    private int _fetching;
    private int _reserved;
    private int _buffered;
    private int _intake;
    private volatile bool _accepting = true;
    private volatile bool _drained;
    private volatile bool _paused;
    private long _pausedSetAt = long.MinValue;

    public PostgresQueueStore(PostgresStorage storage, string name, QueueOptions options, bool paused)
    {
        _storage = storage;
        _floors = new ClaimFloors(storage.Options.PollInterval);
        QueueName = name;
        Options = options;
        _paused = paused;
    }

    public string QueueName { get; }

    public QueueOptions Options { get; }

    public int Capacity => Options.Capacity;

    public bool IsAccepting => _accepting;

    public bool IsPaused => _paused;

    // ---- Intake -------------------------------------------------------------------------------------------

    public ValueTask<EnqueueStatus> EnqueueAsync(QueueMessage message, CancellationToken cancellationToken) =>
        Submit([message]);

    public ValueTask<EnqueueStatus> EnqueueBatchAsync(IReadOnlyList<QueueMessage> messages, CancellationToken cancellationToken) =>
        Submit(messages);

    public void StopAccepting()
    {
        // What comes due after the stop is kept for the next start, not run by a replica winding down.
        Volatile.Write(ref _stoppedAt, _storage.Time.GetUtcNow().UtcTicks);
        _accepting = false;
        // Commits in progress take a round trip; the bound guards against a lost database turning this into a hang.
        SpinWait.SpinUntil(() => Volatile.Read(ref _intake) == 0, TimeSpan.FromSeconds(5));
        Wake();
    }

    // The token is not passed on: once submitted, a message may be committed, and its sender must hear so.
    private async ValueTask<EnqueueStatus> Submit(IReadOnlyList<QueueMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (!_accepting)
        {
            return EnqueueStatus.ShuttingDown;
        }

        Interlocked.Increment(ref _intake);
        try
        {
            return await _storage.Intake.Submit(this, messages).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _intake);
        }
    }

    // ---- Claims -------------------------------------------------------------------------------------------

    public TakeResult TryClaim(in WorkerSlot worker, out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken, bool spinFirst = false)
    {
        var started = Environment.TickCount64;
        CancellationTokenRegistration wakeOnCancel = default;
        try
        {
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    message = null;
                    return TakeResult.Cancelled;
                }

                var seen = Volatile.Read(ref _version);
                if (_paused && _accepting)
                {
                    // Paused through any replica: back to the worker, whose loop shows paused and waits at its gate.
                    message = null;
                    return TakeResult.TimedOut;
                }

                if (TryTakeBuffered(out message))
                {
                    return TakeResult.Taken;
                }

                var fetch = Fetch();
                if (fetch == FetchResult.Got)
                {
                    continue;
                }

                if (_drained && _buffer.IsEmpty)
                {
                    return TakeResult.Completed;
                }

                if (fetch == FetchResult.Outage)
                {
                    seen = -1; // Back off for a whole interval; a wake-up does not shorten it.
                }
                else if (fetch == FetchResult.Empty && _accepting)
                {
                    WakeAtNextDue(); // A delayed message starts on time, not at the next poll.
                }

                var left = timeout.TotalMilliseconds - (Environment.TickCount64 - started);
                if (left <= 0)
                {
                    message = null;
                    return TakeResult.TimedOut;
                }

                if (wakeOnCancel == default && cancellationToken.CanBeCanceled)
                {
                    wakeOnCancel = cancellationToken.Register(static s => ((PostgresQueueStore)s!).Wake(), this);
                }

                // Bounded by the fallback poll: a lost notification delays a claim, never strands it.
                Wait(seen, (int)Math.Min(left, _storage.Options.PollInterval.TotalMilliseconds));
            }
        }
        finally
        {
            wakeOnCancel.Dispose();
        }
    }

    public bool TryClaimNow(in WorkerSlot worker, out QueueMessage? message)
    {
        if (_paused && _accepting)
        {
            message = null;
            return false;
        }

        return TryTakeBuffered(out message) || (Fetch() == FetchResult.Got && TryTakeBuffered(out message));
    }

    /// <summary>Wakes the workers waiting for a claim: a notification, a local commit, a pause change, a stop.</summary>
    internal void Wake()
    {
        lock (_gate)
        {
            _version++;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The stored flag, read at <paramref name="readAt"/>; a read older than this replica's own change is stale.</summary>
    internal void SetPausedFromDatabase(bool paused, long readAt)
    {
        if (_paused != paused && readAt > Volatile.Read(ref _pausedSetAt))
        {
            _paused = paused;
            Wake();
        }
    }

    /// <summary>This replica lost its lease: what it buffered was put back by another, so it is not worked here.</summary>
    internal void DropBuffer()
    {
        Interlocked.Add(ref _buffered, -_buffer.Clear());
    }

    private void Wait(int seen, int milliseconds)
    {
        lock (_gate)
        {
            if (_version == seen || seen == -1)
            {
                Monitor.Wait(_gate, Math.Max(1, milliseconds));
            }
        }
    }

    private bool TryTakeBuffered(out QueueMessage? message)
    {
        RefreshIfOutranked();
        if (_buffer.TryTake(ClaimNow, Options.PriorityAging.Ticks, out var b))
        {
            _claims[b.Message] = new Claim(b.Pos, b.Claims);
            message = b.Message;
            // Below half: this worker tops the buffer up (one round trip) while the others keep working from it.
            if (Interlocked.Decrement(ref _buffered) < _storage.Options.ClaimBatch / 2 && Volatile.Read(ref _fetching) < Fetchers && _accepting)
            {
                Fetch();
            }

            return true;
        }

        message = null;
        return false;
    }

    /// <summary>
    /// Round trips in flight at once per queue: with one, fast workers empty the buffer while it is out; half the
    /// workers keep them fed, each fetch taking its share of the buffer's room (reserved, so the bound holds).
    /// </summary>
    private int Fetchers => Math.Max(1, Options.Workers / 2);

    private FetchResult Fetch()
    {
        if (Interlocked.Increment(ref _fetching) > Fetchers)
        {
            Interlocked.Decrement(ref _fetching);
            return FetchResult.Busy; // Others are fetching; they wake the rest when rows arrive.
        }

        var take = 0;
        try
        {
            var stopping = !_accepting;
            var share = Math.Max(1, _storage.Options.ClaimBatch / Fetchers);
            // Reserve a whole share first, then give back what the room does not allow.
            var othersReserved = Interlocked.Add(ref _reserved, share) - share;
            take = Math.Max(0, Math.Min(share, _storage.Options.ClaimBatch - Volatile.Read(ref _buffered) - othersReserved));
            Interlocked.Add(ref _reserved, take - share);
            if (take == 0)
            {
                return FetchResult.Busy; // The buffer is full (or about to be).
            }

            var got = ClaimInOrder(stopping, take);
            if (got < 0)
            {
                return FetchResult.Busy; // A refresh is fetching; it wakes the rest.
            }

            if (got > 0)
            {
                Interlocked.Add(ref _buffered, got);
                Wake();
                return FetchResult.Got;
            }

            if (stopping)
            {
                _drained = true;
                Wake();
            }

            return FetchResult.Empty;
        }
#pragma warning disable CA1031 // A lost database is waited out by the caller (bounded), never thrown at a worker.
        catch (Exception ex) when (Sql.IsOutage(ex))
#pragma warning restore CA1031
        {
            _storage.ReportOutage(ex);
            return FetchResult.Outage;
        }
        finally
        {
            Interlocked.Add(ref _reserved, -take);
            Interlocked.Decrement(ref _fetching);
        }
    }

    /// <summary>Claims up to <paramref name="take"/> of the best ready messages into the buffer (above the floors); how many.</summary>
    private int ClaimInto(bool stopping, int take)
    {
        var now = ClaimNow;
        var floors = _floors.Next();
        var rows = _storage.Claim(this, stopping, take, now, floors: floors);
        if (rows.Count == 0 && !floors.Full)
        {
            rows = _storage.Claim(this, stopping, take, now); // Nothing above the floors: from the start.
        }

        _floors.Raise(rows, floors);
        if (rows.Count > 0)
        {
            var lowest = rows.Min(r => r.Message.Priority);
            LowerTo(ref _lowestPriority, lowest);
            _buffer.Add(rows);
        }

        return rows.Count;
    }

    // ---- Outcome reports (the claiming worker's thread) ------------------------------------------------------

    public void Processing(QueueMessage message, in WorkerSlot worker, DateTimeOffset now)
    {
        // Not written on its own: AttemptStarted follows at once and carries it.
        message.StartedAt ??= now;
        message.WorkerId = worker.WorkerId;
        message.NextAttemptAt = null;
        message.Status = MessageStatus.Processing;
    }

    public void AttemptStarted(QueueMessage message, in WorkerSlot worker)
    {
        message.Attempts++;
        message.Status = MessageStatus.Processing;
        Send(message, remove: false);
    }

    public void Retrying(QueueMessage message, in WorkerSlot worker, DateTimeOffset nextAttemptAt, string? error)
    {
        message.Error = error;
        message.NextAttemptAt = nextAttemptAt;
        message.Status = MessageStatus.Retrying;
        Send(message, remove: false);
    }

    public void Finish(QueueMessage message, in WorkerSlot worker, MessageStatus status, string? error, long completedAtUtcTicks)
    {
        if (status == MessageStatus.DeadLettered && Options.DeadLetterCapacity == 0)
        {
            status = MessageStatus.Failed;
        }

        message.CompletedAtTicks = completedAtUtcTicks;
        message.NextAttemptAt = null;
        message.Error = error;
        message.Status = status;
        Send(message, remove: true);
    }

    public void Release(QueueMessage message, in WorkerSlot worker, string reason)
    {
        // Kept for the next claim (by this replica or another), its attempt counted.
        message.Error = reason;
        message.Status = MessageStatus.Queued;
        Send(message, remove: true);
    }

    private void Send(QueueMessage m, bool remove)
    {
        var found = remove ? _claims.TryRemove(m, out var claim) : _claims.TryGetValue(m, out claim);
        if (!found)
        {
            return; // Not claimed through this store: nothing of ours to report.
        }

        _storage.Outcomes.Add(new Report(
            this, m, claim.Pos, claim.Claims, Rows.Code(m.Status), m.Attempts, m.WorkerId,
            Rows.Ticks(m.StartedAt), Rows.Ticks(m.NextAttemptAt), m.Error, Rows.Ticks(m.CompletedAt)));
    }

    private readonly record struct Claim(long Pos, int Claims);

    private enum FetchResult
    {
        Got,
        Empty,
        Busy,
        Outage,
    }
}
