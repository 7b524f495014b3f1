namespace QueueApi.Storage.Sqlite.Recovery;

/// <summary>A queued or retrying message as start-up reads it: no payload (read at claim time), so a million fit.</summary>
public readonly record struct ActiveRow(long IdMs, uint IdSeq, StoredStatus Status, int Attempts, int Crashes, long EnqueuedAt, long? NextAttemptAt);
