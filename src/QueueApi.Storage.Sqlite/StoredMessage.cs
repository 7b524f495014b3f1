namespace QueueApi.Storage.Sqlite;

/// <summary>One message row. Times are UTC ticks; the id is the engine's two numbers (milliseconds, sequence).</summary>
public sealed record StoredMessage(long IdMs, uint IdSeq, string Queue, byte[] Payload, long EnqueuedAt)
{
    public StoredStatus Status { get; init; }

    public int Attempts { get; init; }

    public int Crashes { get; init; }

    public long? StartedAt { get; init; }

    public long? CompletedAt { get; init; }

    public long? NextAttemptAt { get; init; }

    public string? Worker { get; init; }

    public string? Error { get; init; }

    public long? DueAt { get; init; }

    public string? TraceParent { get; init; }

    public int Priority { get; init; } = 5;
}
