namespace QueueApi.Engine.Queues;

/// <summary>Why a message was or was not accepted.</summary>
public enum EnqueueStatus
{
    Accepted,
    UnknownQueue,
    Full,
    ShuttingDown,
}
