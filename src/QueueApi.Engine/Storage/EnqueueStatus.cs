namespace QueueApi.Engine.Storage;

/// <summary>Why a message was or was not accepted.</summary>
public enum EnqueueStatus
{
    /// <summary>Stored (for a durable store: committed); the message will reach a worker.</summary>
    Accepted,
    UnknownQueue,

    /// <summary>No room: the queue holds Capacity messages (a batch: not room for all of it). Nothing was stored.</summary>
    Full,

    /// <summary>The queue stopped accepting (the engine is stopping). Nothing was stored.</summary>
    ShuttingDown,

    /// <summary>A durable store could not commit (I/O error, full disk, lost database). Nothing was stored.</summary>
    StorageUnavailable,

    /// <summary>
    /// The idempotency key was used within the window with the same body: nothing was stored, and the message's
    /// <see cref="Messages.QueueMessage.ReplayOf"/> names the first one (a batch: some items are repeats, see each).
    /// </summary>
    Duplicate,

    /// <summary>The idempotency key was used within the window with a different body. Nothing was stored.</summary>
    KeyConflict,
}
