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

    // Keyed intake runs one at a time from the key check to the memory store's enqueue: a repeat must be found
    // before its row commits (it is never stored), and two concurrent first uses of a key must not both commit.
    private readonly SemaphoreSlim _keyGate = new(1, 1);

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
        if (!await _keyGate.WaitAsync(CommitWait).ConfigureAwait(false))
        {
            return EnqueueStatus.StorageUnavailable;
        }

        try
        {
            var fresh = new List<QueueMessage>(messages.Count);
            var found = _memory.FindRepeats(messages, fresh);
            if (found != EnqueueStatus.Accepted)
            {
                return found; // A repeat or a conflict: nothing written.
            }

            var status = messages.Count == 1
                ? await Intake(InsertOf(fresh[0]), null, fresh[0], null).ConfigureAwait(false)
                : await Intake(default, InsertsOf(fresh), null, fresh).ConfigureAwait(false);
            return status; // A batch's repeats are marked on its messages.
        }
        finally
        {
            _keyGate.Release();
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
