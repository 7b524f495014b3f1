namespace QueueApi.Storage.Sqlite;

/// <summary>A message's status as stored; the numbers are the engine's <c>MessageStatus</c> values.</summary>
public enum StoredStatus
{
    Queued = 0,
    Processing = 1,
    Retrying = 2,
    Succeeded = 3,
    Failed = 4,
    DeadLettered = 5,
    Dropped = 6,

    /// <summary>Waiting for its due time (7 is the PostgreSQL store's own claimed code).</summary>
    Scheduled = 8,
}
