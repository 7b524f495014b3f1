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
    private long _nextAttemptAt = None;

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

    public string? Error { get; internal set; }

    /// <summary>When a retrying message will be tried again.</summary>
    public DateTimeOffset? NextAttemptAt
    {
        get => FromTicks(Volatile.Read(ref _nextAttemptAt));
        internal set => Volatile.Write(ref _nextAttemptAt, ToTicks(value));
    }

    /// <summary>
    /// The W3C <c>traceparent</c> of the request that enqueued it, when that request was traced; each attempt's span
    /// continues it. Null otherwise.
    /// </summary>
    public string? TraceParent { get; internal set; }

    /// <summary>The trace id within <see cref="TraceParent"/>, for the status view and log searches.</summary>
    public string? TraceId => Diagnostics.MessageTracing.TraceIdOf(TraceParent);

    public bool IsFinished => Status is MessageStatus.Succeeded or MessageStatus.Failed or MessageStatus.DeadLettered or MessageStatus.Dropped;

    private static long ToTicks(DateTimeOffset? value) => value is { } v ? v.UtcTicks : None;

    private static DateTimeOffset? FromTicks(long ticks) => ticks == None ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
}
