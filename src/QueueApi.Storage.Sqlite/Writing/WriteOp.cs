namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>What one write does to a message row (and, with it, to the queue's books).</summary>
public enum WriteKind
{
    Insert,
    Claim,
    Retry,
    Finish,
    Release,
    Crash,
    Requeue,
    DeleteDeadLetter,
    SetPaused,
    Count,
    ExpandPacked,
}

/// <summary>
/// One row change for the group-commit writer. The books move in the same transaction as the row: an insert
/// counts as accepted, a finish under its status (a drop under its reason), a requeued or deleted dead letter
/// leaves the dead-letter count.
/// </summary>
public readonly record struct WriteOp(WriteKind Kind, long IdMs, uint IdSeq, string Queue)
{
    public const string Accepted = "accepted";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string DeadLettered = "dead_lettered";
    public const string DroppedPrefix = "dropped:";

    public byte[]? Payload { get; init; }

    public StoredStatus Status { get; init; }

    /// <summary>Attempts (claim), or a counter's delta.</summary>
    public long Number { get; init; }

    /// <summary>Enqueue, start or completion time in UTC ticks, by kind.</summary>
    public long Time { get; init; }

    public long? NextAttemptAt { get; init; }

    /// <summary>An insert's issue-15 and 16 columns (due time, trace parent, idempotency key, priority); null for a plain message.</summary>
    public InsertExtras? Extras { get; init; }

    /// <summary>Worker (claim), error (retry, finish), drop reason (finish as dropped, delete) or counter name.</summary>
    public string? Text { get; init; }

    public static WriteOp Insert(StoredMessage m) => Insert(m.IdMs, m.IdSeq, m.Queue, m.Payload, m.EnqueuedAt);

    public static WriteOp Insert(long idMs, uint idSeq, string queue, byte[] payload, long enqueuedAt) =>
        new(WriteKind.Insert, idMs, idSeq, queue) { Payload = payload, Time = enqueuedAt };

    /// <summary>An insert with a due time, trace parent, idempotency key or priority (the key's row expiring at <paramref name="extras"/>' time).</summary>
    public static WriteOp Insert(long idMs, uint idSeq, string queue, byte[] payload, long enqueuedAt, InsertExtras extras) =>
        new(WriteKind.Insert, idMs, idSeq, queue) { Payload = payload, Time = enqueuedAt, Extras = extras };

    /// <summary>The attempt and its start are recorded before the handler runs: a crash then counts.</summary>
    public static WriteOp Claim(long idMs, uint idSeq, string queue, int attempts, long startedAt, string worker) =>
        new(WriteKind.Claim, idMs, idSeq, queue) { Number = attempts, Time = startedAt, Text = worker };

    public static WriteOp Retry(long idMs, uint idSeq, string queue, long nextAttemptAt, string? error) =>
        new(WriteKind.Retry, idMs, idSeq, queue) { NextAttemptAt = nextAttemptAt, Text = error };

    /// <summary>A final status; for <see cref="StoredStatus.Dropped"/> the error is the reason in the books.</summary>
    public static WriteOp Finish(long idMs, uint idSeq, string queue, StoredStatus status, long completedAt, string? error) =>
        new(WriteKind.Finish, idMs, idSeq, queue) { Status = status, Time = completedAt, Text = error };

    /// <summary>Back to queued without counting a crash (a stop that keeps the work, a cancelled attempt).</summary>
    public static WriteOp Release(long idMs, uint idSeq, string queue) => new(WriteKind.Release, idMs, idSeq, queue);

    /// <summary>The message's worker died while running it.</summary>
    public static WriteOp Crash(long idMs, uint idSeq, string queue) => new(WriteKind.Crash, idMs, idSeq, queue);

    /// <summary>A dead letter goes back to the queue as new: attempts and crashes start again.</summary>
    public static WriteOp Requeue(long idMs, uint idSeq, string queue, long enqueuedAt) =>
        new(WriteKind.Requeue, idMs, idSeq, queue) { Time = enqueuedAt };

    public static WriteOp DeleteDeadLetter(long idMs, uint idSeq, string queue, string reason) =>
        new(WriteKind.DeleteDeadLetter, idMs, idSeq, queue) { Text = reason };

    public static WriteOp SetPaused(string queue, bool paused) => new(WriteKind.SetPaused, 0, 0, queue) { Number = paused ? 1 : 0 };

    /// <summary>Moves a counter of the books by <paramref name="delta"/>.</summary>
    public static WriteOp Count(string queue, string counter, long delta) => new(WriteKind.Count, 0, 0, queue) { Text = counter, Number = delta };

    /// <summary>Every packed intake row of the queue becomes message rows (no books move: they were counted when packed).</summary>
    public static WriteOp ExpandPacked(string queue) => new(WriteKind.ExpandPacked, 0, 0, queue);

    /// <summary>The counter a finish moves.</summary>
    internal static string CounterOf(StoredStatus status, string? reason) => status switch
    {
        StoredStatus.Succeeded => Succeeded,
        StoredStatus.Failed => Failed,
        StoredStatus.DeadLettered => DeadLettered,
        StoredStatus.Dropped => DroppedPrefix + (reason ?? "unknown"),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Only a final status finishes a message."),
    };
}

/// <summary>
/// What an insert stores beyond a plain message: a reference, so a plain <see cref="WriteOp"/> stays small.
/// <paramref name="Scheduled"/>: due later than the intake's clock (stored with status 8 until then).
/// <paramref name="Priority"/>: 0-9; a plain insert leaves the column's default, 5.
/// </summary>
public sealed record InsertExtras(long? DueAt, bool Scheduled, string? TraceParent, string? IdempotencyKey, string? RequestHash, long KeyExpiresAt, int Priority = 5);
