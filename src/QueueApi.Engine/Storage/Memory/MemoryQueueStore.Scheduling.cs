using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>Delayed delivery and cancelling: what the in-memory store does for messages that are not due yet.</summary>
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

    /// <summary>Whether any message of a batch has a due time; reads no clock.</summary>
    private static bool AnyDelayed(IReadOnlyList<QueueMessage> messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].DueAtTicks > 0)
            {
                return true;
            }
        }

        return false;
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
