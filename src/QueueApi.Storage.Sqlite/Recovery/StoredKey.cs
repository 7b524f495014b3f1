namespace QueueApi.Storage.Sqlite.Recovery;

/// <summary>An idempotency key as start-up reads it: its first message, body hash, expiry and, if known, how that message ended.</summary>
public readonly record struct StoredKey(string Key, long IdMs, uint IdSeq, string? RequestHash, long ExpiresAt, StoredStatus? Final);
