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

    /// <summary>Accepted with a delay: waits, uncounted as queued, until its due time (<see cref="QueueMessage.DueAt"/>).</summary>
    /// <remarks>Stores keep statuses as these numbers; 7 is the PostgreSQL store's own "claimed" row code, so 8.</remarks>
    Scheduled = 8,
}

/// <summary>One accepted message and its bookkeeping. Written by one worker at a time, read by anyone.</summary>
/// <remarks>
/// Kept small because a full queue holds millions: the id is kept as numbers and formatted when read,
/// and times as UTC ticks (every time comes from <see cref="TimeProvider.GetUtcNow"/>), which also makes
/// each read atomic where a <see cref="DateTimeOffset"/>? could tear.
/// </remarks>
public sealed class QueueMessage
{
    private const long None = -1;

    private readonly long _idMs;
    private readonly uint _idSeq;
    private long _enqueuedAt;
    private long _startedAt = None;
    private long _completedAt = None;
    // 0 free, 1 claimed by a worker, 2 cancelled: one compare-and-swap decides a claim racing a cancel.
    private int _claim;
    // What most messages never have (a delay, a trace, an idempotency key): one reference instead of three fields.
    private Extras? _extras;

    internal QueueMessage(MessageKey id, string queue, byte[] payload, DateTimeOffset enqueuedAt)
    {
        _idMs = id.Ms;
        _idSeq = id.Seq;
        Queue = queue;
        Payload = payload;
        EnqueuedAt = enqueuedAt;
    }

    /// <summary>Time-sortable and unique; a new string on each read, so queued messages do not each keep one.</summary>
    public string Id => Key.ToString();

    internal MessageKey Key => new(_idMs, _idSeq);

    public string Queue { get; }

    /// <summary>The JSON body exactly as the client sent it.</summary>
    public byte[] Payload { get; }

    public DateTimeOffset EnqueuedAt
    {
        get => FromTicks(Volatile.Read(ref _enqueuedAt))!.Value;
        internal set => Volatile.Write(ref _enqueuedAt, value.UtcTicks);
    }

    public DateTimeOffset? StartedAt
    {
        get => FromTicks(Volatile.Read(ref _startedAt));
        internal set => Volatile.Write(ref _startedAt, ToTicks(value));
    }

    public DateTimeOffset? CompletedAt
    {
        get => FromTicks(Volatile.Read(ref _completedAt));
        internal set => Volatile.Write(ref _completedAt, ToTicks(value));
    }

    internal long EnqueuedAtTicks => Volatile.Read(ref _enqueuedAt);

    internal long CompletedAtTicks
    {
        set => Volatile.Write(ref _completedAt, value);
    }

    public int Attempts { get; internal set; }

    public string? WorkerId { get; internal set; }

    public MessageStatus Status { get; internal set; }

    // Error and NextAttemptAt live in the extras: only a failed or retrying message has them, and a million queued
    // messages are 16 MB smaller without the two fields (docs/performance.md, "Packed intake").

    /// <summary>The last attempt's error; null while none failed.</summary>
    public string? Error
    {
        get => _extras?.Error;
        internal set => WithExtras(value is not null)?.Error = value;
    }

    /// <summary>When a retrying message will be tried again.</summary>
    public DateTimeOffset? NextAttemptAt
    {
        get => FromTicks(_extras is { } x ? Volatile.Read(ref x.NextAttemptAt) : None);
        internal set
        {
            if (WithExtras(value is not null) is { } x)
            {
                Volatile.Write(ref x.NextAttemptAt, ToTicks(value));
            }
        }
    }

    /// <summary>
    /// The W3C <c>traceparent</c> of the request that enqueued it, when that request was traced; each attempt's span
    /// continues it. Null otherwise.
    /// </summary>
    public string? TraceParent
    {
        get => _extras?.TraceParent;
        internal set => WithExtras(value is not null)?.TraceParent = value;
    }

    /// <summary>When a delayed message may run, never before; null when it was not delayed.</summary>
    public DateTimeOffset? DueAt
    {
        get => FromTicks(_extras?.DueAt ?? None);
        internal set => WithExtras(value is not null)?.DueAt = ToTicks(value);
    }

    internal long DueAtTicks => _extras?.DueAt ?? None;

    /// <summary>The client's <c>Idempotency-Key</c>; null without one. Set with <see cref="SetIdempotencyKey"/>.</summary>
    public string? IdempotencyKey => _extras?.IdempotencyKey;

    /// <summary>A hash (SHA-256, base64) of the body the key came with: a repeat must bring the same body.</summary>
    public string? RequestHash => _extras?.RequestHash;

    /// <summary>
    /// After an enqueue answered <see cref="Storage.EnqueueStatus.Duplicate"/>: the id of the message first accepted
    /// with the same key, and its status then. Nothing was stored for this one.
    /// </summary>
    public string? ReplayOf => _extras?.ReplayOf;

    public MessageStatus ReplayStatus => _extras?.ReplayStatus ?? MessageStatus.Queued;

    /// <summary>What a store keeps with a keyed message (the in-memory store: its key entry, to note the final status).</summary>
    internal object? StoreTag
    {
        get => _extras?.StoreTag;
        set => WithExtras(value is not null)?.StoreTag = value;
    }

    internal void SetIdempotencyKey(string key, string requestHash)
    {
        var extras = WithExtras(true)!;
        extras.IdempotencyKey = key;
        extras.RequestHash = requestHash;
    }

    /// <summary>A store found the key already used by <paramref name="firstId"/> (with the same body).</summary>
    internal void MarkReplayOf(string firstId, MessageStatus firstStatus)
    {
        var extras = WithExtras(true)!;
        extras.ReplayOf = firstId;
        extras.ReplayStatus = firstStatus;
    }

    /// <summary>
    /// 0 (lowest) to 9 (highest), <see cref="MessagePriority.Default"/> unless the client chose: higher runs first,
    /// equal priorities in order of arrival, and waiting raises it (<see cref="MessagePriority.Effective"/>).
    /// </summary>
    public int Priority
    {
        get => _extras?.Priority ?? MessagePriority.Default;
        internal set => WithExtras(value != MessagePriority.Default)?.Priority = (byte)value;
    }

    /// <summary>Since when it waits in the line: its due time when it was delayed, else when it was enqueued.</summary>
    internal long ReadySinceTicks => Math.Max(Volatile.Read(ref _enqueuedAt), DueAtTicks);

    /// <summary>A worker takes it (true once); false if it was cancelled first.</summary>
    internal bool TryMarkClaimed() => Interlocked.CompareExchange(ref _claim, 1, 0) == 0;

    /// <summary>A cancel takes it out of the line (true once); false if a worker claimed it first.</summary>
    internal bool TryMarkCancelled() => Interlocked.CompareExchange(ref _claim, 2, 0) == 0;

    internal bool IsCancelled => Volatile.Read(ref _claim) == 2;

    /// <summary>Back in the line (a requeued dead letter): free to be claimed again.</summary>
    internal void MarkUnclaimed() => Volatile.Write(ref _claim, 0);

    /// <summary>The trace id within <see cref="TraceParent"/>, for the status view and log searches.</summary>
    public string? TraceId => Diagnostics.MessageTracing.TraceIdOf(TraceParent);

    public bool IsFinished => Status is MessageStatus.Succeeded or MessageStatus.Failed or MessageStatus.DeadLettered or MessageStatus.Dropped;

    /// <summary>The extras to write a value into; none is made to write a null.</summary>
    private Extras? WithExtras(bool create) => create ? _extras ??= new Extras() : _extras;

    private sealed class Extras
    {
        public string? Error;
        public long NextAttemptAt = None;
        public string? TraceParent;
        public long DueAt = None;
        public string? IdempotencyKey;
        public string? RequestHash;
        public string? ReplayOf;
        public MessageStatus ReplayStatus;
        public object? StoreTag;
        public byte Priority = MessagePriority.Default;
    }

    private static long ToTicks(DateTimeOffset? value) => value is { } v ? v.UtcTicks : None;

    private static DateTimeOffset? FromTicks(long ticks) => ticks == None ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
}
