using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>
/// Hooks for a durable store that fronts this one (SQLite): it must learn which keyed messages are repeats
/// BEFORE it commits their rows, count scheduled messages against its own reservations, and restore the keys of
/// an earlier run.
/// </summary>
internal sealed partial class MemoryQueueStore
{
    /// <summary>Scheduled messages not yet due (they hold room but are not in <see cref="QueuedCount"/>).</summary>
    internal int ScheduledCount => _schedule.Count;

    /// <summary>
    /// Checks a batch's idempotency keys without storing anything: repeats (of a live key, or of an earlier item of
    /// the batch) are marked on their messages, the rest are added to <paramref name="fresh"/>. The caller holds
    /// a lock across this check and the enqueue of <paramref name="fresh"/> (this store: the keys' gate; a durable
    /// front: its own, held across the commit), so one key makes one message.
    /// </summary>
    internal EnqueueStatus FindRepeats(IReadOnlyList<QueueMessage> messages, List<QueueMessage> fresh)
    {
        lock (_keys.Gate)
        {
            var now = _time.GetUtcNow().UtcTicks;
            Dictionary<string, QueueMessage>? inBatch = null;
            foreach (var m in messages)
            {
                if (m.IdempotencyKey is not { } key)
                {
                    fresh.Add(m);
                }
                else if (_keys.Find(m, now) is { } first)
                {
                    if (first.Hash != m.RequestHash)
                    {
                        return EnqueueStatus.KeyConflict;
                    }

                    var firstId = first.Id.ToString();
                    m.MarkReplayOf(firstId, _index.TryGet(firstId, out var held) ? held!.Status : first.Final ?? MessageStatus.Queued);
                }
                else if ((inBatch ??= new(StringComparer.Ordinal)).TryGetValue(key, out var earlier))
                {
                    if (earlier.RequestHash != m.RequestHash)
                    {
                        return EnqueueStatus.KeyConflict;
                    }

                    m.MarkReplayOf(earlier.Id, earlier.DueAtTicks > now ? MessageStatus.Scheduled : MessageStatus.Queued);
                }
                else
                {
                    inBatch.Add(key, m);
                    fresh.Add(m);
                }
            }

            return fresh.Count == 0 ? EnqueueStatus.Duplicate : EnqueueStatus.Accepted;
        }
    }

    /// <summary>
    /// Start-up: remembers a key of an earlier run (oldest expiry first, before any new key), linked to its message
    /// if that was reloaded, so the message notes how it ends for later repeats.
    /// </summary>
    internal void RestoreKey(string key, MessageKey id, string? hash, long expiresAt, MessageStatus? final)
    {
        lock (_keys.Gate)
        {
            var entry = _keys.Restore(key, id, hash, expiresAt);
            entry.Final = final;
            if (_index.TryGet(id.ToString(), out var message))
            {
                message!.StoreTag = entry;
            }
        }
    }
}
