namespace QueueApi.Engine.Workers;

/// <summary>What a worker thread is doing right now.</summary>
public enum WorkerState
{
    Starting,
    Idle,
    Busy,
    Retrying,
    Paused,
    BackingOff,
    Stopping,
    Stopped,
    Faulted,

    /// <summary>Holds a claimed message and waits for the queue's rate limit to let it start.</summary>
    Throttled,
}

/// <summary>A recorded failure of a worker's loop (not of one message).</summary>
public sealed record WorkerFault(string WorkerId, string Type, string Message, string? MessageId, DateTimeOffset At, string Detail);
