using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// The memory storage with switches for the scheduler's tests: intake answers StorageUnavailable (a durable store that
/// cannot commit), the queue stops accepting, the features it declares; and it counts single and batch enqueues.
/// </summary>
internal sealed class ScheduleQueueStorage(TimeProvider time, StoreFeatures features) : IMessageStorage
{
    private readonly MemoryStorage _inner = new(time);
    private int _singles;
    private int _batches;

    public volatile bool Failing;

    public volatile bool Closed;

    public int Singles => Volatile.Read(ref _singles);

    public int Batches => Volatile.Read(ref _batches);

    public string Provider => "ScheduleTest";

    public bool IsDurable => false;

    public StoreFeatures Features => features;

    public IQueueStore Open(string queueName, QueueOptions options) => new Store(_inner.Open(queueName, options), this);

    public ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken) => new(StorageHealth.Ok("test"));

    public void Dispose() => _inner.Dispose();

    private sealed class Store(IQueueStore inner, ScheduleQueueStorage owner) : IQueueStore
    {
        public string QueueName => inner.QueueName;

        public int Capacity => inner.Capacity;

        public int QueuedCount => inner.QueuedCount;

        public bool IsAccepting => !owner.Closed && inner.IsAccepting;

        public int DeadLetterCount => inner.DeadLetterCount;

        public bool IsPaused => inner.IsPaused;

        public ValueTask<EnqueueStatus> EnqueueAsync(QueueMessage message, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._singles);
            return owner.Closed ? new(EnqueueStatus.ShuttingDown)
                : owner.Failing ? new(EnqueueStatus.StorageUnavailable)
                : inner.EnqueueAsync(message, cancellationToken);
        }

        public ValueTask<EnqueueStatus> EnqueueBatchAsync(IReadOnlyList<QueueMessage> messages, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._batches);
            return owner.Closed ? new(EnqueueStatus.ShuttingDown)
                : owner.Failing ? new(EnqueueStatus.StorageUnavailable)
                : inner.EnqueueBatchAsync(messages, cancellationToken);
        }

        public void StopAccepting() => inner.StopAccepting();

        public TakeResult TryClaim(in WorkerSlot worker, out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken, bool spinFirst = false) =>
            inner.TryClaim(worker, out message, timeout, cancellationToken, spinFirst);

        public bool TryClaimNow(in WorkerSlot worker, out QueueMessage? message) => inner.TryClaimNow(worker, out message);

        public void Processing(QueueMessage message, in WorkerSlot worker, DateTimeOffset now) => inner.Processing(message, worker, now);

        public void AttemptStarted(QueueMessage message, in WorkerSlot worker) => inner.AttemptStarted(message, worker);

        public void Retrying(QueueMessage message, in WorkerSlot worker, DateTimeOffset nextAttemptAt, string? error) => inner.Retrying(message, worker, nextAttemptAt, error);

        public void Finish(QueueMessage message, in WorkerSlot worker, MessageStatus status, string? error, long completedAtUtcTicks) =>
            inner.Finish(message, worker, status, error, completedAtUtcTicks);

        public void Release(QueueMessage message, in WorkerSlot worker, string reason) => inner.Release(message, worker, reason);

        public StopLeftover Settle(string reason) => inner.Settle(reason);

        public bool TryGet(string id, out QueueMessage? message) => inner.TryGet(id, out message);

        public QueueCounts Counts() => inner.Counts();

        public IReadOnlyList<QueueMessage> DeadLetters(int limit) => inner.DeadLetters(limit);

        public ValueTask<DeadLetterResult> RequeueDeadLetterAsync(string id, CancellationToken cancellationToken) => inner.RequeueDeadLetterAsync(id, cancellationToken);

        public ValueTask<DeadLetterResult> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken) => inner.DeleteDeadLetterAsync(id, cancellationToken);

        public void SetPaused(bool paused) => inner.SetPaused(paused);
    }
}
