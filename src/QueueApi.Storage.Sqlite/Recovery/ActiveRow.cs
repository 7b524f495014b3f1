namespace QueueApi.Storage.Sqlite.Recovery;

/// <summary>A queued, scheduled or retrying message as start-up reads it.</summary>
public readonly record struct ActiveRow(long IdMs, uint IdSeq, byte[] Payload, StoredStatus Status, int Attempts, int Crashes, long EnqueuedAt, long? NextAttemptAt)
{
    public long? DueAt { get; init; }

    public string? TraceParent { get; init; }

    /// <summary>0-9: the lane it rejoins at start-up.</summary>
    public int Priority { get; init; } = 5;
}
