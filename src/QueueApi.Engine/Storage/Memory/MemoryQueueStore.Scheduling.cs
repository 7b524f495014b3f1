using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>
/// The in-memory store's intake beyond the plain path: idempotency keys, delayed delivery, and cancelling messages
/// that have not started.
/// </summary>
internal sealed partial class MemoryQueueStore
{
    public ValueTask<CancelResult> CancelAsync(string id, CancellationToken cancellationToken)
    {
        if (!_index.TryGet(id, out var found))
        {
            return new(CancelResult.NotFound);
        }

        var message = found!;
        if (_schedule.TryCancel(message))
        {
            _ready.Unreserve(1);
        }
        else if (message.Status == MessageStatus.Queued && message.TryMarkCancelled())
        {
            _ready.Cancelled(); // It stays in the line until a taker passes over it, but holds no room.
        }
        else
        {
            return new(message.IsFinished ? CancelResult.Finished : CancelResult.Running);
        }

        Complete(message, MessageStatus.Dropped, CancelledReason, _time.GetUtcNow().UtcTicks, _slots[0]);
        return new(CancelResult.Done);
    }

    public void Dispose() => _schedule.Dispose();

    /// <summary>Whether any message of a batch has a due time or an idempotency key; reads no clock.</summary>
    private static bool AnySpecial(IReadOnlyList<QueueMessage> messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].DueAtTicks > 0 || messages[i].IdempotencyKey is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Messages with idempotency keys (and maybe due times), under the keys' lock so one key makes one message: a
    /// key used within the window with the same body is a repeat (marked on the message, nothing stored), with
    /// another body a conflict (nothing of the batch stored); the new ones are stored all or none.
    /// </summary>
    private EnqueueStatus EnqueueSpecial(IReadOnlyList<QueueMessage> messages)
    {
        lock (_keys.Gate)
        {
            var fresh = new List<QueueMessage>(messages.Count);
            var found = FindRepeats(messages, fresh);
            if (found != EnqueueStatus.Accepted)
            {
                return found;
            }

            var now = _time.GetUtcNow().UtcTicks;

            // Keys first, so a message that finishes at once still finds its entry to note how it ended.
            fresh.ForEach(m => AddKey(m, now));
            var status = EnqueueMixed(fresh);
            if (status != EnqueueStatus.Accepted)
            {
                fresh.ForEach(_keys.Remove);
                return status;
            }

            return EnqueueStatus.Accepted; // A batch's repeats are marked on its messages.
        }
    }

    /// <summary>One keyed message due now: the batch path's steps without its lists (the common keyed enqueue).</summary>
    private EnqueueStatus EnqueueKeyed(QueueMessage message)
    {
        lock (_keys.Gate)
        {
            var now = _time.GetUtcNow().UtcTicks;
            if (_keys.Find(message, now) is { } first)
            {
                if (first.Hash != message.RequestHash)
                {
                    return EnqueueStatus.KeyConflict;
                }

                var firstId = first.Id.ToString();
                message.MarkReplayOf(firstId, _index.TryGet(firstId, out var held) ? held!.Status : first.Final ?? MessageStatus.Queued);
                return EnqueueStatus.Duplicate;
            }

            _keys.Add(message, now);
            _index.Add(message);
            if (!_ready.TryAdd(message))
            {
                _index.Remove(message);
                _keys.Remove(message);
                return EnqueueStatus.Full;
            }

            Interlocked.Increment(ref _accepted);
            return EnqueueStatus.Accepted;
        }
    }

    private void AddKey(QueueMessage m, long now)
    {
        if (m.IdempotencyKey is not null)
        {
            _keys.Add(m, now);
        }
    }

    /// <summary>
    /// Stores messages of which some may be due later, under the intake scope: room for all is reserved at once
    /// (all or none); those due later than now are scheduled, the rest join the line.
    /// </summary>
    private EnqueueStatus EnqueueMixed(IReadOnlyList<QueueMessage> messages)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var scheduled = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            scheduled += messages[i].DueAtTicks > now ? 1 : 0;
        }

        if (!_ready.TryReserve(messages.Count, scheduled))
        {
            return EnqueueStatus.Full;
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            _index.Add(m);
            if (m.DueAtTicks > now)
            {
                _schedule.Add(m);
            }
            else
            {
                _ready.AddReserved(m);
            }
        }

        Interlocked.Add(ref _accepted, messages.Count);
        return EnqueueStatus.Accepted;
    }
}
