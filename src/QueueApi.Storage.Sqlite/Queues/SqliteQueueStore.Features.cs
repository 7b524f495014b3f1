using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Sqlite.Recovery;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Queues;

/// <summary>
/// Issue 15's and 16's features on the SQLite store: due times, trace parents, idempotency keys and priorities are
/// written with the row; the memory store behind it keeps the schedule (one timer for the earliest due time), the
/// live keys and the priority lanes.
/// </summary>
internal sealed partial class SqliteQueueStore
{
    private const string CancelledReason = "cancelled";

    // Keys whose first message is being committed now: a repeat must be found before its row would commit (it is
    // never stored), so a use of a pending key waits for that intake and checks again; other keys share the group
    // commit. A key leaves this map only after the memory store holds it (or the intake failed and freed it).
    private readonly Lock _pendingGate = new();
    private readonly Dictionary<string, Task> _pending = new(StringComparer.Ordinal);

    // Cancels decided in memory whose write failed; a retry of the cancel writes them.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (MessageKey Key, long At)> _unwrittenCancels = new(StringComparer.Ordinal);

    /// <summary>Start-up: a key of an earlier run, still within its window.</summary>
    internal void RestoreKey(StoredKey key) =>
        _memory.RestoreKey(key.Key, new MessageKey(key.IdMs, key.IdSeq), key.RequestHash, key.ExpiresAt, (MessageStatus?)key.Final);

    public async ValueTask<CancelResult> CancelAsync(string id, CancellationToken cancellationToken)
    {
        if (_unwrittenCancels.TryGetValue(id, out var unwritten))
        {
            return await WriteCancel(id, unwritten.Key, unwritten.At).ConfigureAwait(false);
        }

        if (!_memory.TryGet(id, out var message))
        {
            return _baseline.TryGet(id, out _) ? CancelResult.Finished : CancelResult.NotFound;
        }

        // The memory store decides atomically against a claim; only a won cancel is written.
        var result = await _memory.CancelAsync(id, cancellationToken).ConfigureAwait(false);
        if (result != CancelResult.Done)
        {
            return result;
        }

        return await WriteCancel(id, message!.Key, message.CompletedAt?.UtcTicks ?? _time.GetUtcNow().UtcTicks).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a cancel won in memory. If the write fails, the message no longer runs in this process but the file
    /// still holds it queued, and a restart would run it: the cancel is remembered, the caller is told to try again
    /// (503), and the retry writes it.
    /// </summary>
    private async Task<CancelResult> WriteCancel(string id, MessageKey key, long at)
    {
        var unit = _writer.Submit(new WriteUnit(WriteOp.Finish(key.Ms, key.Seq, QueueName, StoredStatus.Dropped, at, CancelledReason)));
        if (await unit.CommittedAsync(CommitWait, () => _unwrittenCancels.TryRemove(id, out _)).ConfigureAwait(false))
        {
            _unwrittenCancels.TryRemove(id, out _);
            return CancelResult.Done;
        }

        _unwrittenCancels[id] = (key, at);
        return CancelResult.StorageUnavailable;
    }

    private async Task<EnqueueStatus> IntakeKeyed(IReadOnlyList<QueueMessage> messages)
    {
        while (true)
        {
            var fresh = new List<QueueMessage>(messages.Count);
            TaskCompletionSource? done = null;
            Task? busy = null;
            lock (_pendingGate)
            {
                foreach (var m in messages)
                {
                    if (m.IdempotencyKey is { } key && _pending.TryGetValue(key, out var first))
                    {
                        busy = first;
                        break;
                    }
                }

                if (busy is null)
                {
                    var found = _memory.FindRepeats(messages, fresh);
                    if (found != EnqueueStatus.Accepted)
                    {
                        return found; // A repeat or a conflict: nothing written.
                    }

                    done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    foreach (var m in fresh)
                    {
                        if (m.IdempotencyKey is { } key)
                        {
                            _pending[key] = done.Task;
                        }
                    }
                }
            }

            if (busy is not null)
            {
                // That intake ends within its own commit wait; then this one checks the key again.
                if (!await WaitQuietly(busy, CommitWait).ConfigureAwait(false))
                {
                    return EnqueueStatus.StorageUnavailable;
                }

                continue;
            }

            try
            {
                return messages.Count == 1
                    ? await Intake(InsertOf(fresh[0]), null, fresh[0], null).ConfigureAwait(false)
                    : await Intake(default, InsertsOf(fresh), null, fresh).ConfigureAwait(false); // Repeats are marked on their messages.
            }
            finally
            {
                lock (_pendingGate)
                {
                    foreach (var m in fresh)
                    {
                        if (m.IdempotencyKey is { } key)
                        {
                            _pending.Remove(key);
                        }
                    }
                }

                done!.SetResult();
            }
        }
    }

    private static async Task<bool> WaitQuietly(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static bool AnyKeyed(IReadOnlyList<QueueMessage> messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].IdempotencyKey is not null)
            {
                return true;
            }
        }

        return false;
    }

    private WriteOp[] InsertsOf(IReadOnlyList<QueueMessage> messages)
    {
        var ops = new WriteOp[messages.Count];
        for (var i = 0; i < ops.Length; i++)
        {
            ops[i] = InsertOf(messages[i]);
        }

        return ops;
    }

    /// <summary>
    /// A plain message's insert is as small as before (its priority is the column's default); the extras ride on a
    /// reference only when present.
    /// </summary>
    private WriteOp InsertOf(QueueMessage m)
    {
        var key = m.Key;
        if (m.DueAtTicks <= 0 && m.TraceParent is null && m.IdempotencyKey is null && m.Priority == MessagePriority.Default)
        {
            return WriteOp.Insert(key.Ms, key.Seq, QueueName, m.Payload, m.EnqueuedAtTicks);
        }

        var now = _time.GetUtcNow().UtcTicks;
        var extras = new InsertExtras(
            m.DueAtTicks > 0 ? m.DueAtTicks : null, m.DueAtTicks > now, m.TraceParent, m.IdempotencyKey, m.RequestHash, now + _options.IdempotencyWindow.Ticks, m.Priority);
        return WriteOp.Insert(key.Ms, key.Seq, QueueName, m.Payload, m.EnqueuedAtTicks, extras);
    }
}
