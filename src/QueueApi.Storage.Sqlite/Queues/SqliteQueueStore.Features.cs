using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Sqlite.Recovery;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Queues;

/// <summary>
/// Issue 15's features on the SQLite store: due times, trace parents and idempotency keys are written with the
/// row; the memory store behind it keeps the schedule (one timer for the earliest due time) and the live keys.
/// </summary>
internal sealed partial class SqliteQueueStore
{
    private const string CancelledReason = "cancelled";

    // Keys whose first message is being committed now: a repeat must be found before its row would commit (it is
    // never stored), so a use of a pending key waits for that intake and checks again; other keys share the group
    // commit. A key leaves this map only after the memory store holds it (or the intake failed and freed it).
    private readonly Lock _pendingGate = new();
    private readonly Dictionary<string, Task> _pending = new(StringComparer.Ordinal);

    /// <summary>Start-up: a key of an earlier run, still within its window.</summary>
    internal void RestoreKey(StoredKey key) =>
        _memory.RestoreKey(key.Key, new MessageKey(key.IdMs, key.IdSeq), key.RequestHash, key.ExpiresAt, (MessageStatus?)key.Final);

    public async ValueTask<CancelResult> CancelAsync(string id, CancellationToken cancellationToken)
    {
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

        var key = message!.Key;
        var at = message.CompletedAt?.UtcTicks ?? _time.GetUtcNow().UtcTicks;
        try
        {
            await _writer.Write(WriteOp.Finish(key.Ms, key.Seq, QueueName, StoredStatus.Dropped, at, CancelledReason)).WaitAsync(CommitWait).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SqliteStorageException or TimeoutException)
        {
            // Cancelled in this process, but the file still holds it as it was: a restart would run it.
            return CancelResult.StorageUnavailable;
        }

        return CancelResult.Done;
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

    /// <summary>A plain message's insert is as small as before; the extras ride on a reference only when present.</summary>
    private WriteOp InsertOf(QueueMessage m)
    {
        var key = m.Key;
        if (m.DueAtTicks <= 0 && m.TraceParent is null && m.IdempotencyKey is null)
        {
            return WriteOp.Insert(key.Ms, key.Seq, QueueName, m.Payload, m.EnqueuedAtTicks);
        }

        var now = _time.GetUtcNow().UtcTicks;
        var extras = new InsertExtras(
            m.DueAtTicks > 0 ? m.DueAtTicks : null, m.DueAtTicks > now, m.TraceParent, m.IdempotencyKey, m.RequestHash, now + _options.IdempotencyWindow.Ticks);
        return WriteOp.Insert(key.Ms, key.Seq, QueueName, m.Payload, m.EnqueuedAtTicks, extras);
    }
}
