using System.Collections.Concurrent;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Queues;

/// <summary>
/// What a queue's file held from earlier runs and the in-memory store does not: the books before this start, and
/// the finished messages and dead letters kept then. The books this process shows are the memory store's plus
/// these, so a message carried over from an earlier run is counted once.
/// </summary>
internal sealed class StoredBaseline
{
    private readonly ConcurrentDictionary<string, long> _droppedReasons = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, QueueMessage> _finished = new(StringComparer.Ordinal);
    private readonly Lock _deadLock = new();
    private readonly OrderedDictionary<string, QueueMessage> _dead = new(StringComparer.Ordinal);
    private long _accepted;
    private readonly long _succeeded;
    private readonly long _failed;
    private long _deadLettered;
    private long _dropped;

    /// <summary>
    /// From the stored counters, less the <paramref name="reloaded"/> messages that go back into the memory store
    /// (which counts them as accepted again).
    /// </summary>
    public StoredBaseline(IReadOnlyDictionary<string, long> books, int reloaded, int unloaded)
    {
        Unloaded = unloaded;
        foreach (var (counter, value) in books)
        {
            switch (counter)
            {
                case WriteOp.Accepted: _accepted = value - reloaded; break;
                case WriteOp.Succeeded: _succeeded = value; break;
                case WriteOp.Failed: _failed = value; break;
                case WriteOp.DeadLettered: _deadLettered = value; break;
                default:
                    if (counter.StartsWith(WriteOp.DroppedPrefix, StringComparison.Ordinal))
                    {
                        _droppedReasons[counter[WriteOp.DroppedPrefix.Length..]] = value;
                        _dropped += value;
                    }

                    break;
            }
        }

        if (!books.ContainsKey(WriteOp.Accepted))
        {
            _accepted = -reloaded;
        }
    }

    /// <summary>Queued messages left in the file because the queue's capacity was full at start-up.</summary>
    public int Unloaded { get; }

    public int DeadCount
    {
        get
        {
            lock (_deadLock)
            {
                return _dead.Count;
            }
        }
    }

    /// <summary>Keeps a finished message or dead letter of an earlier run for lookups (and listing).</summary>
    public void Keep(QueueMessage message)
    {
        if (message.Status == MessageStatus.DeadLettered)
        {
            lock (_deadLock)
            {
                _dead[message.Id] = message;
            }
        }
        else
        {
            _finished[message.Id] = message;
        }
    }

    public bool TryGet(string id, out QueueMessage? message)
    {
        if (_finished.TryGetValue(id, out message))
        {
            return true;
        }

        lock (_deadLock)
        {
            return _dead.TryGetValue(id, out message);
        }
    }

    public bool TryTakeDead(string id, out QueueMessage? message)
    {
        lock (_deadLock)
        {
            return _dead.Remove(id, out message);
        }
    }

    public void PutBackDead(QueueMessage message)
    {
        lock (_deadLock)
        {
            _dead[message.Id] = message;
        }
    }

    public List<QueueMessage> Dead(int limit)
    {
        lock (_deadLock)
        {
            return [.. _dead.Values.Take(limit)];
        }
    }

    /// <summary>An old dead letter went back to the queue: the memory store counts it accepted and queued now.</summary>
    public void Requeued()
    {
        Interlocked.Decrement(ref _accepted);
        Interlocked.Decrement(ref _deadLettered);
    }

    /// <summary>An old dead letter was deleted: it moves to dropped with the reason.</summary>
    public void Deleted(string reason)
    {
        Interlocked.Decrement(ref _deadLettered);
        Interlocked.Increment(ref _dropped);
        _droppedReasons.AddOrUpdate(reason, 1, static (_, n) => n + 1);
    }

    /// <summary>
    /// The memory store's books plus these, plus messages waiting for their next attempt time (retrying) and those
    /// a stop released (queued, held by no line but stored as queued).
    /// </summary>
    public QueueCounts AddTo(QueueCounts live, int delayed, int released)
    {
        var reasons = new Dictionary<string, long>(live.DroppedReasons, StringComparer.Ordinal);
        foreach (var (reason, n) in _droppedReasons)
        {
            reasons[reason] = reasons.GetValueOrDefault(reason) + n;
        }

        return new QueueCounts(
            live.Accepted + Interlocked.Read(ref _accepted) + delayed,
            live.Succeeded + _succeeded,
            live.Failed + _failed,
            live.DeadLettered + Interlocked.Read(ref _deadLettered),
            live.Dropped + Interlocked.Read(ref _dropped),
            live.Queued + released + Unloaded,
            live.InFlight,
            live.Retrying + delayed,
            reasons,
            live.Scheduled);
    }
}
