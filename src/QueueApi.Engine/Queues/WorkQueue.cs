using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Resilience;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Queues;

/// <summary>
/// One named queue as callers see it: intake, status reads, pause and dead-letter actions all in one place, over
/// its store (which keeps the messages and the books) and its worker threads.
/// </summary>
public sealed class WorkQueue
{
    private readonly TimeProvider _time;

    internal WorkQueue(QueueRuntime runtime, IReadOnlyList<Worker> workers, TimeProvider time)
    {
        Runtime = runtime;
        Workers = workers;
        _time = time;
    }

    public string Name => Runtime.Name;

    public QueueOptions Options => Runtime.Options;

    public IReadOnlyList<Worker> Workers { get; }

    internal QueueRuntime Runtime { get; }

    internal IQueueStore Store => Runtime.Store;

    public bool IsAccepting => Store.IsAccepting;

    /// <summary>The stored flag: a shared store shows a pause made through any replica.</summary>
    public bool IsPaused => Store.IsPaused;

    public string CircuitState => Runtime.Breaker.StateAt(_time.GetUtcNow().UtcTicks) switch
    {
        BreakerState.Disabled => "disabled",
        BreakerState.Closed => "closed",
        BreakerState.Open => "open",
        _ => "halfOpen",
    };

    public DateTimeOffset? CircuitOpenUntil =>
        Runtime.Breaker.StateAt(_time.GetUtcNow().UtcTicks) == BreakerState.Open ? Runtime.Breaker.OpenUntil : null;

    /// <summary>The rate limit on starting messages and its bucket now; null when the queue has none.</summary>
    public RateLimitState? RateLimit => Runtime.Starts is { } s
        ? new RateLimitState(s.Options.PermitsPerSecond, s.Options.Burst, s.AvailablePermits, s.WaitingWorkers, s.DelayedStarts)
        : null;

    /// <summary>A consistent-enough snapshot of the books: exact once the queue is quiet.</summary>
    public QueueCounts Counts() => Store.Counts();

    public int DeadLetterCount => Store.DeadLetterCount;

    public bool TryGetMessage(string id, out QueueMessage? message) => Store.TryGet(id, out message);

    public IReadOnlyList<QueueMessage> DeadLetters(int limit) => Store.DeadLetters(limit);

    /// <summary>Queued messages per priority and the oldest waiting of each, highest first.</summary>
    public IReadOnlyList<PriorityLane> Priorities() => Store.Priorities();

    /// <summary>A new message for this queue, stamped now; not stored until <see cref="EnqueueAsync(QueueMessage, CancellationToken)"/>.</summary>
    /// <param name="payload">The JSON body.</param>
    /// <param name="traceParent">The enqueuing request's W3C traceparent, when traced (<see cref="Diagnostics.MessageTracing.ParentOf"/>).</param>
    /// <param name="dueAt">When it may run, for delayed delivery; null: now.</param>
    /// <param name="idempotencyKey">The client's Idempotency-Key: a repeat within the window returns the first message.</param>
    /// <param name="priority">0-9, higher first (<see cref="MessagePriority"/>).</param>
    public QueueMessage NewMessage(byte[] payload, string? traceParent = null, DateTimeOffset? dueAt = null, string? idempotencyKey = null, int priority = MessagePriority.Default)
    {
        CheckPriority(priority);
        var now = _time.GetUtcNow();
        var message = new QueueMessage(MessageId.Next(now), Name, payload, now) { TraceParent = traceParent, DueAt = dueAt, Priority = priority };
        if (idempotencyKey is not null)
        {
            message.SetIdempotencyKey(idempotencyKey, RequestHash(payload));
        }

        return message;
    }

    /// <summary>What a repeat must match: the SHA-256 of the body, base64 (stable across processes, for durable stores).</summary>
    public static string RequestHash(ReadOnlySpan<byte> payload)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(payload, hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>New messages for a batch, with consecutive ids and one clock read.</summary>
    public QueueMessage[] NewBatch(IReadOnlyList<byte[]> payloads, string? traceParent = null, DateTimeOffset? dueAt = null, IReadOnlyList<string?>? idempotencyKeys = null, int priority = MessagePriority.Default)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        CheckPriority(priority);
        var now = _time.GetUtcNow();
        var batch = new QueueMessage[payloads.Count];
        var first = MessageId.NextRange(now, batch.Length);
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = new QueueMessage(first with { Seq = unchecked(first.Seq + (uint)i) }, Name, payloads[i], now) { TraceParent = traceParent, DueAt = dueAt, Priority = priority };
            if (idempotencyKeys?[i] is { } key)
            {
                batch[i].SetIdempotencyKey(key, RequestHash(payloads[i]));
            }
        }

        return batch;
    }

    /// <summary>Stores the message; the store is the one gate that says whether the queue accepts.</summary>
    public ValueTask<EnqueueStatus> EnqueueAsync(QueueMessage message, CancellationToken cancellationToken) =>
        Store.EnqueueAsync(message, cancellationToken);

    /// <summary>Stores all the messages or none.</summary>
    public ValueTask<EnqueueStatus> EnqueueBatchAsync(IReadOnlyList<QueueMessage> messages, CancellationToken cancellationToken) =>
        Store.EnqueueBatchAsync(messages, cancellationToken);

    /// <summary>Cancels a queued or scheduled message: dropped, reason "cancelled". A running one answers Running.</summary>
    public ValueTask<CancelResult> CancelAsync(string id, CancellationToken cancellationToken) => Store.CancelAsync(id, cancellationToken);

    /// <summary>The clock the queue stamps messages with.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Workers finish the message in hand and take no new ones until <see cref="Resume"/>. Stored.</summary>
    public void Pause()
    {
        Store.SetPaused(true);
        Runtime.Pause.Pause();
    }

    public void Resume()
    {
        Store.SetPaused(false);
        Runtime.Pause.Resume();
    }

    public ValueTask<DeadLetterResult> RequeueAsync(string id, CancellationToken cancellationToken) =>
        Store.RequeueDeadLetterAsync(id, cancellationToken);

    public ValueTask<DeadLetterResult> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        Store.DeleteDeadLetterAsync(id, cancellationToken);

    private static void CheckPriority(int priority) =>
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)priority, (uint)MessagePriority.Max, nameof(priority));
}
