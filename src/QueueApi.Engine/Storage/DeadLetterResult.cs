namespace QueueApi.Engine.Storage;

/// <summary>The outcome of an operation on a dead letter.</summary>
public enum DeadLetterResult
{
    Done,
    UnknownQueue,
    NotFound,
    QueueFull,
    ShuttingDown,

    /// <summary>A durable store could not commit; the dead letter is unchanged.</summary>
    StorageUnavailable,
}
