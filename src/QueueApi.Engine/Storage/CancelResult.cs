namespace QueueApi.Engine.Storage;

/// <summary>The outcome of cancelling a message that has not started.</summary>
public enum CancelResult
{
    /// <summary>It was queued or scheduled: now dropped with reason "cancelled"; it will never run.</summary>
    Done,
    NotFound,

    /// <summary>A worker has it (processing or retrying): too late to cancel.</summary>
    Running,

    /// <summary>It already reached a final status.</summary>
    Finished,

    /// <summary>A durable store could not commit; the message is unchanged.</summary>
    StorageUnavailable,

    /// <summary>This store does not implement cancelling yet.</summary>
    NotSupported,
}
