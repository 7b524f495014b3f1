using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>
/// The storage under test and the steps the contract tests take with it (accept, claim, start, finish), as the
/// engine takes them. Time is a <see cref="FakeTimeProvider"/>.
/// </summary>
public abstract class QueueStoreContractBase : IDisposable
{
    protected static readonly WorkerSlot W0 = new(0, "q-1");
    protected static readonly WorkerSlot W1 = new(1, "q-2");

    private IMessageStorage? _storage;

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>
    /// A storage over this test's data. Called again after <see cref="Reopen"/>: a durable store must then find
    /// what the previous one kept (same file or database); each test gets its own data.
    /// </summary>
    protected abstract IMessageStorage CreateStorage(TimeProvider time);

    protected IMessageStorage Storage => _storage ??= CreateStorage(Time);

    protected static QueueOptions Options(int capacity = 100, int workers = 2, int retain = 100, int deadLetters = 100) => new()
    {
        Capacity = capacity,
        Workers = workers,
        RetainFinished = retain,
        DeadLetterCapacity = deadLetters,
    };

    protected IQueueStore Open(QueueOptions? options = null, string name = "q") => Storage.Open(name, options ?? Options());

    /// <summary>Ends this storage as a crash would (nothing settled) and makes the next <see cref="Open"/> a fresh start.</summary>
    protected void Reopen()
    {
        _storage?.Dispose();
        _storage = null;
    }

    protected QueueMessage NewMessage(string payload = "{}", string queue = "q")
    {
        var now = Time.GetUtcNow();
        return new QueueMessage(MessageId.Next(now), queue, System.Text.Encoding.UTF8.GetBytes(payload), now);
    }

    /// <summary>Waits for the store's acknowledgement (a durable store's commit), bounded by the test's token.</summary>
    protected static EnqueueStatus Enqueue(IQueueStore store, QueueMessage message) =>
        store.EnqueueAsync(message, TestContext.Current.CancellationToken).AsTask().WaitAsync(TestEngine.Timeout).ConfigureAwait(false).GetAwaiter().GetResult();

    protected QueueMessage Accept(IQueueStore store, string payload = "{}")
    {
        var m = NewMessage(payload);
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, m));
        return m;
    }

    protected static QueueMessage Claim(IQueueStore store, WorkerSlot worker)
    {
        Assert.True(store.TryClaimNow(worker, out var m), "a message was ready to claim");
        return m!;
    }

    /// <summary>Claims and runs one attempt of a message, as a worker does, now.</summary>
    protected QueueMessage ClaimAndStart(IQueueStore store, WorkerSlot worker)
    {
        var m = Claim(store, worker);
        store.Processing(m, worker, Time.GetUtcNow());
        store.AttemptStarted(m, worker);
        return m;
    }

    protected void Finish(IQueueStore store, QueueMessage m, WorkerSlot worker, MessageStatus status, string? error = null) =>
        store.Finish(m, worker, status, error, Time.GetUtcNow().UtcTicks);

    protected static QueueMessage? Find(IQueueStore store, string id) => store.TryGet(id, out var m) ? m : null;

    protected static void AssertBalanced(IQueueStore store)
    {
        var c = store.Counts();
        Assert.True(c.Balanced, $"books out of balance: {c}");
    }

    public void Dispose()
    {
        _storage?.Dispose();
        GC.SuppressFinalize(this);
    }
}
