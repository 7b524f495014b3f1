namespace QueueApi.Engine.Queues;

/// <summary>The outcome of an operation on a dead letter.</summary>
public enum DeadLetterResult
{
    Done,
    UnknownQueue,
    NotFound,
    QueueFull,
    ShuttingDown,
}
