using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Tests.Support;

/// <summary>The memory store whose intake can be made to fail as a full disk would, and whose health then says so.</summary>
public sealed class FailingStorage : IMessageStorage
{
    private readonly MemoryStorage _inner = new(TimeProvider.System);

    public volatile bool Failing;

    /// <summary>Reads of messages throw as a store that cannot be reached does (a shared database restarting).</summary>
    public volatile bool ReadsFailing;

    public string Provider => "Failing";

    public bool IsDurable => true;

    public IQueueStore Open(string queueName, QueueOptions options) => new Store(_inner.Open(queueName, options), this);

    public ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken) =>
        new(Failing ? StorageHealth.Failing("disk full (simulated)") : StorageHealth.Ok("ok (simulated)"));

    public void Dispose() => _inner.Dispose();

    private sealed class Store(IQueueStore inner, FailingStorage owner) : IQueueStore
    {
        public string QueueName => inner.QueueName;

        public int Capacity => inner.Capacity;

        public int QueuedCount => inner.QueuedCount;

        public bool IsAccepting => inner.IsAccepting;

        public int DeadLetterCount => inner.DeadLetterCount;

        public bool IsPaused => inner.IsPaused;

        public ValueTask<EnqueueStatus> EnqueueAsync(QueueMessage message, CancellationToken cancellationToken) =>
            owner.Failing ? new(EnqueueStatus.StorageUnavailable) : inner.EnqueueAsync(message, cancellationToken);

        public ValueTask<EnqueueStatus> EnqueueBatchAsync(IReadOnlyList<QueueMessage> messages, CancellationToken cancellationToken) =>
            owner.Failing ? new(EnqueueStatus.StorageUnavailable) : inner.EnqueueBatchAsync(messages, cancellationToken);

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

        public bool TryGet(string id, out QueueMessage? message) =>
            owner.ReadsFailing ? throw new StorageUnavailableException("the database is restarting (simulated)") : inner.TryGet(id, out message);

        public QueueCounts Counts() => inner.Counts();

        public IReadOnlyList<QueueMessage> DeadLetters(int limit) => inner.DeadLetters(limit);

        public ValueTask<DeadLetterResult> RequeueDeadLetterAsync(string id, CancellationToken cancellationToken) => inner.RequeueDeadLetterAsync(id, cancellationToken);

        public ValueTask<DeadLetterResult> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken) => inner.DeleteDeadLetterAsync(id, cancellationToken);

        public void SetPaused(bool paused) => inner.SetPaused(paused);
    }
}
