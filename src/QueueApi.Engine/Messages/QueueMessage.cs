namespace QueueApi.Engine.Messages;

/// <summary>Where a message is in its life.</summary>
public enum MessageStatus
{
    Queued,
    Processing,
    Retrying,
    Succeeded,
    Failed,
    DeadLettered,
    Dropped,
}

/// <summary>One accepted message and its bookkeeping. Written by one worker at a time, read by anyone.</summary>
public sealed class QueueMessage
{
    internal QueueMessage(string id, string queue, byte[] payload, DateTimeOffset enqueuedAt)
    {
        Id = id;
        Queue = queue;
        Payload = payload;
        EnqueuedAt = enqueuedAt;
    }

    public string Id { get; }

    public string Queue { get; }

    /// <summary>The JSON body exactly as the client sent it.</summary>
    public byte[] Payload { get; }

    public DateTimeOffset EnqueuedAt { get; internal set; }

    public DateTimeOffset? StartedAt { get; internal set; }

    public DateTimeOffset? CompletedAt { get; internal set; }

    public int Attempts { get; internal set; }

    public string? WorkerId { get; internal set; }

    public MessageStatus Status { get; internal set; }

    public string? Error { get; internal set; }

    /// <summary>When a retrying message will be tried again.</summary>
    public DateTimeOffset? NextAttemptAt { get; internal set; }

    public bool IsFinished => Status is MessageStatus.Succeeded or MessageStatus.Failed or MessageStatus.DeadLettered or MessageStatus.Dropped;
}
