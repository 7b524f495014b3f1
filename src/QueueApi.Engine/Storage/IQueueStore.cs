using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage;

/// <summary>
/// One queue's store: everything about its messages that must outlive a process. Messages and their status,
/// attempts and next-attempt time, the retained finished messages, the dead letters, the books (with dropped
/// reasons) and the paused flag. Workers claim from it and report every outcome to it; the HTTP layer reads
/// status from it.
/// </summary>
/// <remarks>
/// <para>Threads: intake, reads and operator actions come from any thread; claims and outcome reports come from
/// the worker threads, each passing its <see cref="WorkerSlot"/>, and a message is reported on only by the worker
/// that claimed it. Every wait is bounded by a timeout and a token.</para>
/// <para>Life of a message: [Scheduled →] Queued → (claim) Processing ⇄ Retrying → Succeeded | Failed | DeadLettered | Dropped.
/// Each step moves it from one bucket of <see cref="QueueCounts"/> to the next, so the books always balance.</para>
/// <para>Delayed delivery: a message whose <see cref="QueueMessage.DueAt"/> is later than the store's clock at
/// enqueue is stored <see cref="MessageStatus.Scheduled"/> (it counts against Capacity) and is handed out by no claim
/// before that time; once due it is queued, due messages in due order, and a claimer waiting then is woken without
/// polling (a timer on the store's <see cref="TimeProvider"/>, or a wait bounded by the next due time).</para>
/// <para>Outcome reports return nothing: a durable store may batch their writes (delivery is at-least-once, so
/// a crash before they are written runs a message again; the attempt is counted then).</para>
/// </remarks>
public interface IQueueStore
{
    string QueueName { get; }

    int Capacity { get; }

    /// <summary>Messages waiting for a worker (not claimed, not retrying). Cheap; for gauges and reports.</summary>
    int QueuedCount { get; }

    /// <summary>False once <see cref="StopAccepting"/> ran.</summary>
    bool IsAccepting { get; }

    // ---- Intake -------------------------------------------------------------------------------------------

    /// <summary>
    /// Stores one message if there is room and the store accepts; never waits for room. Completes once stored
    /// (a durable store: committed). The in-memory store completes synchronously and allocates nothing.
    /// </summary>
    ValueTask<EnqueueStatus> EnqueueAsync(QueueMessage message, CancellationToken cancellationToken);

    /// <summary>Stores all the messages or none (one transaction); never waits for room.</summary>
    ValueTask<EnqueueStatus> EnqueueBatchAsync(IReadOnlyList<QueueMessage> messages, CancellationToken cancellationToken);

    /// <summary>
    /// Refuses new messages (and requeues) from now on, once the intake in progress has finished; claims still
    /// hand out what is stored, then answer <see cref="TakeResult.Completed"/>. Idempotent.
    /// </summary>
    void StopAccepting();

    // ---- Claims (worker threads) --------------------------------------------------------------------------

    /// <summary>
    /// Claims the next message for <paramref name="worker"/>: the highest effective priority
    /// (<see cref="MessagePriority.Effective"/> with the queue's PriorityAging), equal ones in order of arrival (FIFO), waiting up to <paramref name="timeout"/>.
    /// With <paramref name="spinFirst"/> (the worker just finished one, so traffic flows) the store may look again
    /// briefly before it puts the thread to sleep. The claimed message still shows <see cref="MessageStatus.Queued"/>
    /// until the worker reports <see cref="Processing"/> (it reads the clock once, after the claim).
    /// </summary>
    TakeResult TryClaim(in WorkerSlot worker, out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken, bool spinFirst = false);

    /// <summary>Claims a message only if one is ready now; never waits.</summary>
    bool TryClaimNow(in WorkerSlot worker, out QueueMessage? message);

    // ---- Outcome reports (the claiming worker's thread) -------------------------------------------------------

    /// <summary>
    /// The claimed (or retrying) message is being worked on by <paramref name="worker"/> from
    /// <paramref name="now"/>: status Processing, worker id set, started-at set on the first call, next attempt cleared.
    /// </summary>
    void Processing(QueueMessage message, in WorkerSlot worker, DateTimeOffset now);

    /// <summary>An attempt starts (its handler is about to run): the message's attempt count goes up by one.</summary>
    void AttemptStarted(QueueMessage message, in WorkerSlot worker);

    /// <summary>An attempt failed and another follows at <paramref name="nextAttemptAt"/>: status Retrying.</summary>
    void Retrying(QueueMessage message, in WorkerSlot worker, DateTimeOffset nextAttemptAt, string? error);

    /// <summary>
    /// The message reached a final status (<see cref="MessageStatus.Succeeded"/>, <see cref="MessageStatus.Failed"/>
    /// or <see cref="MessageStatus.DeadLettered"/>) at <paramref name="completedAtUtcTicks"/>. A dead letter beyond a
    /// DeadLetterCapacity of 0 ends Failed. Finished messages stay readable up to RetainFinished, then are evicted
    /// from lookups; the oldest dead letter is evicted past DeadLetterCapacity (still counted dead-lettered).
    /// </summary>
    void Finish(QueueMessage message, in WorkerSlot worker, MessageStatus status, string? error, long completedAtUtcTicks);

    /// <summary>
    /// A stop cancelled the message in flight before it finished. The in-memory store ends it Failed with
    /// <paramref name="reason"/>; a durable store keeps it for the next start (attempt counted).
    /// </summary>
    void Release(QueueMessage message, in WorkerSlot worker, string reason);

    // ---- Stop ------------------------------------------------------------------------------------------------

    /// <summary>
    /// After the workers were joined: what is still queued is dropped with <paramref name="reason"/> (counted in
    /// the books' dropped reasons) or, by a durable store, kept for the next start. Says how many of each.
    /// </summary>
    StopLeftover Settle(string reason);

    // ---- Reads -----------------------------------------------------------------------------------------------

    /// <summary>A message by id while it is queued, in flight, retrying, retained finished or a kept dead letter.</summary>
    bool TryGet(string id, out QueueMessage? message);

    /// <summary>A consistent-enough snapshot of the books: exact once the queue is quiet.</summary>
    QueueCounts Counts();

    /// <summary>The kept dead letters, oldest first, at most <paramref name="limit"/>.</summary>
    IReadOnlyList<QueueMessage> DeadLetters(int limit);

    int DeadLetterCount { get; }

    /// <summary>
    /// The queued messages per priority (non-empty ones, highest first) and since when the oldest of each waits.
    /// A store that does not keep priorities yet answers none.
    /// </summary>
    IReadOnlyList<PriorityLane> Priorities() => [];

    // ---- Operator actions -----------------------------------------------------------------------------------

    /// <summary>
    /// Puts a dead letter back in the queue with its attempts reset (accepted is unchanged: it moves from
    /// dead-lettered to queued). <see cref="DeadLetterResult.QueueFull"/> or <see cref="DeadLetterResult.ShuttingDown"/>
    /// leave it a dead letter.
    /// </summary>
    ValueTask<DeadLetterResult> RequeueDeadLetterAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes a dead letter: it moves to dropped, reason "deleted from dead letters".</summary>
    ValueTask<DeadLetterResult> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a message that has not started (queued or scheduled): it moves to dropped with reason "cancelled"
    /// and never runs. A message a worker holds answers <see cref="CancelResult.Running"/>.
    /// </summary>
    ValueTask<CancelResult> CancelAsync(string id, CancellationToken cancellationToken) => new(CancelResult.NotSupported);

    /// <summary>Whether workers take new messages; stored, so it survives a restart (and, shared, all replicas see it).</summary>
    bool IsPaused { get; }

    void SetPaused(bool paused);
}
