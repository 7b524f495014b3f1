using System.Collections.Concurrent;
using Polly;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Queues;

/// <summary>One named queue: its store, its worker pool, its failure policy and its books.</summary>
/// <remarks>
/// The books always satisfy accepted = succeeded + failed + deadLettered + dropped + queued + inFlight + retrying.
/// Each message moves between those buckets one step at a time, by the one thread that owns it then. What workers
/// do on every message is counted where only they write: succeeded by each worker, in flight and retrying from
/// the message each worker holds. So finishing a message writes no cache line another worker writes too.
/// </remarks>
public sealed class WorkQueue
{
    private readonly TimeProvider _time;
    private readonly MessageIndex _index = new();
    // The last finished messages, one ring per worker that together hold RetainFinished: a worker writes only its
    // own ring, so finishing a message shares no cache line with the other workers (a shared ring cost ~70 ns per
    // message with two workers, measured). No lock; an atomic step in case a stop drops messages into ring 0.
    private readonly FinishedRing[] _finished;
    private readonly Lock _deadLock = new();
    // Insertion-ordered, so the oldest dead letter is evicted first; removals are rare (operator actions).
    private readonly OrderedDictionary<string, QueueMessage> _deadLetters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _droppedReasons = new(StringComparer.Ordinal);
    private readonly ManualResetEventSlim _running = new(initialState: true);

    private long _accepted;
    private long _failed;
    private long _deadLettered;
    private long _dropped;
    private int _enqueuers;
    private volatile bool _accepting = true;

    internal WorkQueue(string name, QueueOptions options, IReadyQueue store, IMessageHandler handler, TimeProvider time)
    {
        Name = name;
        Options = options;
        Store = store;
        Handler = handler;
        _time = time;
        var rings = Math.Max(1, options.Workers);
        _finished = new FinishedRing[rings];
        for (var i = 0; i < rings; i++)
        {
            _finished[i] = new FinishedRing((options.RetainFinished / rings) + (i < options.RetainFinished % rings ? 1 : 0));
        }

        Breaker = new CircuitBreaker(options.CircuitBreaker, PassedAttempts);
    }

    public string Name { get; }

    public QueueOptions Options { get; }

    internal IReadyQueue Store { get; }

    internal IMessageHandler Handler { get; }

    /// <summary>Polly's retries, entered only after a first attempt failed.</summary>
    internal ResiliencePipeline Retry { get; set; } = ResiliencePipeline.Empty;

    internal CircuitBreaker Breaker { get; }

    public IReadOnlyList<Worker> Workers { get; internal set; } = [];

    public bool IsAccepting => _accepting;

    public bool IsPaused => !_running.IsSet;

    public string CircuitState => Breaker.StateAt(_time.GetUtcNow().UtcTicks) switch
    {
        BreakerState.Disabled => "disabled",
        BreakerState.Closed => "closed",
        BreakerState.Open => "open",
        _ => "halfOpen",
    };

    public DateTimeOffset? CircuitOpenUntil =>
        Breaker.StateAt(_time.GetUtcNow().UtcTicks) == BreakerState.Open ? Breaker.OpenUntil : null;

    /// <summary>A consistent-enough snapshot of the books: exact once the queue is quiet.</summary>
    public QueueCounts Counts()
    {
        long succeeded = 0;
        int inFlight = 0, retrying = 0;
        foreach (var w in Workers)
        {
            succeeded += w.Succeeded;
            switch (w.CurrentMessage?.Status)
            {
                case MessageStatus.Processing:
                    inFlight++;
                    break;
                case MessageStatus.Retrying:
                    retrying++;
                    break;
            }
        }

        return new(
            Interlocked.Read(ref _accepted),
            succeeded,
            Interlocked.Read(ref _failed),
            Interlocked.Read(ref _deadLettered),
            Interlocked.Read(ref _dropped),
            Store.Count,
            inFlight,
            retrying,
            new Dictionary<string, long>(_droppedReasons));
    }

    /// <summary>The breaker's running total: attempts that did not count as failures, summed over the workers.</summary>
    private long PassedAttempts()
    {
        var workers = Workers;
        long total = 0;
        for (var i = 0; i < workers.Count; i++)
        {
            total += workers[i].AttemptsPassed;
        }

        return total;
    }

    public int DeadLetterCount
    {
        get
        {
            lock (_deadLock)
            {
                return _deadLetters.Count;
            }
        }
    }

    public bool TryGetMessage(string id, out QueueMessage? message) => _index.TryGet(id, out message);

    internal EnqueueStatus Enqueue(QueueMessage message)
    {
        // Counting ourselves in lets StopAccepting wait for adds in progress before it completes the store.
        Interlocked.Increment(ref _enqueuers);
        try
        {
            if (!_accepting)
            {
                return EnqueueStatus.ShuttingDown;
            }

            _index.Add(message);
            if (!Store.TryAdd(message))
            {
                _index.Remove(message);
                return EnqueueStatus.Full;
            }

            Interlocked.Increment(ref _accepted);
            return EnqueueStatus.Accepted;
        }
        finally
        {
            Interlocked.Decrement(ref _enqueuers);
        }
    }

    internal EnqueueStatus EnqueueBatch(IReadOnlyList<QueueMessage> messages)
    {
        Interlocked.Increment(ref _enqueuers);
        try
        {
            if (!_accepting)
            {
                return EnqueueStatus.ShuttingDown;
            }

            foreach (var m in messages)
            {
                _index.Add(m);
            }

            if (!Store.TryAddRange(messages))
            {
                foreach (var m in messages)
                {
                    _index.Remove(m);
                }

                return EnqueueStatus.Full;
            }

            Interlocked.Add(ref _accepted, messages.Count);
            return EnqueueStatus.Accepted;
        }
        finally
        {
            Interlocked.Decrement(ref _enqueuers);
        }
    }

    /// <summary>Refuses new messages, then completes the store once adds in progress are done.</summary>
    internal void StopAccepting()
    {
        _accepting = false;
        // Adds in progress take nanoseconds; the bound only guards against a bug turning this into a hang.
        SpinWait.SpinUntil(() => Volatile.Read(ref _enqueuers) == 0, TimeSpan.FromSeconds(1));
        Store.Complete();
    }

    /// <summary>Workers finish the message in hand and take no new ones until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        _running.Reset();
        foreach (var worker in Workers)
        {
            worker.Wake(); // An idle worker waits for a message, not for a pause: make it look again.
        }
    }

    public void Resume() => _running.Set();

    /// <summary>Blocks a worker while the queue is paused; returns false on timeout.</summary>
    internal bool WaitUntilRunning(TimeSpan timeout, CancellationToken cancellationToken) =>
        _running.Wait(timeout, cancellationToken);

    /// <summary>How long the open circuit still keeps workers from taking new messages.</summary>
    internal TimeSpan BreakRemaining() => Breaker.IsOpen ? Breaker.BreakRemaining(_time.GetUtcNow().UtcTicks) : TimeSpan.Zero;

    internal void MarkProcessing(QueueMessage message, string workerId, DateTimeOffset now)
    {
        message.StartedAt ??= now;
        message.WorkerId = workerId;
        message.NextAttemptAt = null;
        message.Status = MessageStatus.Processing;
    }

    internal void MarkRetrying(QueueMessage message, TimeSpan delay, string? error)
    {
        message.Error = error;
        message.NextAttemptAt = _time.GetUtcNow() + delay;
        message.Status = MessageStatus.Retrying;
    }

    /// <summary>
    /// Moves a message taken by a worker to its final bucket, finished at <paramref name="utcTicks"/>. A success is
    /// counted by the worker itself, before this call publishes the status.
    /// </summary>
    internal void Finish(QueueMessage message, MessageStatus status, string? error, long utcTicks, int ring) =>
        Complete(message, status, error, utcTicks, ring);

    /// <summary>Counts a message that never reached a worker as dropped, with the reason.</summary>
    internal void Drop(QueueMessage message, string reason) => Complete(message, MessageStatus.Dropped, reason, _time.GetUtcNow().UtcTicks, ring: 0);

    private void Complete(QueueMessage message, MessageStatus status, string? error, long utcTicks, int ring)
    {
        if (status == MessageStatus.DeadLettered && Options.DeadLetterCapacity == 0)
        {
            status = MessageStatus.Failed;
        }

        message.CompletedAtTicks = utcTicks;
        message.NextAttemptAt = null;
        message.Error = error;
        switch (status)
        {
            case MessageStatus.Failed:
                Interlocked.Increment(ref _failed);
                break;
            case MessageStatus.Dropped:
                Interlocked.Increment(ref _dropped);
                _droppedReasons.AddOrUpdate(error ?? "unknown", 1, static (_, n) => n + 1);
                break;
            case MessageStatus.DeadLettered:
                Interlocked.Increment(ref _deadLettered);
                AddDeadLetter(message);
                break;
        }

        if (status != MessageStatus.DeadLettered)
        {
            Retain(message, _finished[ring]);
        }

        // Published last: whoever sees a final status also sees the books and lists that go with it.
        message.Status = status;
    }

    private void Retain(QueueMessage message, FinishedRing ring)
    {
        var slots = ring.Slots;
        if (slots.Length == 0)
        {
            _index.Remove(message);
            return;
        }

        var slot = (int)((ulong)(Interlocked.Increment(ref ring.Next) - 1) % (ulong)slots.Length);
        var evicted = Interlocked.Exchange(ref slots[slot], message);
        if (evicted is not null)
        {
            _index.Remove(evicted);
        }
    }

    /// <summary>One worker's share of the retained finished messages.</summary>
    private sealed class FinishedRing(int size)
    {
        public readonly QueueMessage?[] Slots = new QueueMessage?[size];
        public long Next;
    }

    private void AddDeadLetter(QueueMessage message)
    {
        string? evicted = null;
        lock (_deadLock)
        {
            _deadLetters[message.Id] = message;
            if (_deadLetters.Count > Options.DeadLetterCapacity)
            {
                evicted = _deadLetters.GetAt(0).Key;
                _deadLetters.RemoveAt(0);
            }
        }

        // An evicted dead letter stays counted as dead-lettered; only its body is no longer kept.
        if (evicted is not null)
        {
            _index.Remove(evicted);
        }
    }

    public IReadOnlyList<QueueMessage> DeadLetters(int limit)
    {
        lock (_deadLock)
        {
            return _deadLetters.Values.Take(limit).ToList();
        }
    }

    private bool TryRemoveDeadLetter(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out QueueMessage? message)
    {
        lock (_deadLock)
        {
            return _deadLetters.Remove(id, out message);
        }
    }

    internal DeadLetterResult Requeue(string id)
    {
        if (!TryRemoveDeadLetter(id, out var message))
        {
            return DeadLetterResult.NotFound;
        }

        Interlocked.Increment(ref _enqueuers);
        try
        {
            var result = !_accepting ? DeadLetterResult.ShuttingDown : DeadLetterResult.Done;
            if (result == DeadLetterResult.Done)
            {
                // Move it from the dead-letter bucket to the queued one: accepted stays the same.
                message.Status = MessageStatus.Queued;
                message.Attempts = 0;
                message.CompletedAt = null;
                message.StartedAt = null;
                message.WorkerId = null;
                message.EnqueuedAt = _time.GetUtcNow();
                Interlocked.Decrement(ref _deadLettered);
                if (Store.TryAdd(message))
                {
                    return DeadLetterResult.Done;
                }

                Interlocked.Increment(ref _deadLettered);
                message.Status = MessageStatus.DeadLettered;
                result = DeadLetterResult.QueueFull;
            }

            lock (_deadLock)
            {
                _deadLetters[id] = message;
            }

            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _enqueuers);
        }
    }

    internal DeadLetterResult DeleteDeadLetter(string id)
    {
        if (!TryRemoveDeadLetter(id, out var message))
        {
            return DeadLetterResult.NotFound;
        }

        Interlocked.Decrement(ref _deadLettered);
        _index.Remove(message);
        message.Status = MessageStatus.Dropped;
        Interlocked.Increment(ref _dropped);
        _droppedReasons.AddOrUpdate("deleted from dead letters", 1, static (_, n) => n + 1);
        return DeadLetterResult.Done;
    }
}
