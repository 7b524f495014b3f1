using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests;

/// <summary>
/// A store's own threads (the SQLite group-commit writer, the PostgreSQL heartbeat) are watched like workers:
/// without the writer no enqueue is ever answered, so its end must not go unnoticed.
/// </summary>
public sealed class StoreThreadTests
{
    [Fact]
    public async Task AStoreThreadThatEndsTurnsLivenessOffAtOnceAndTheSupervisorStopsEverythingAtItsNextLook()
    {
        var time = FakeClock.Create();
        using var release = new ManualResetEventSlim(false);
        var thread = new Thread(() => release.Wait(TestEngine.Timeout)) { Name = "test store writer", IsBackground = true };
        using var storage = new ThreadedStorage(new MemoryStorage(time), thread);
        using var engine = Create(storage, time);
        thread.Start();
        Assert.True(engine.IsLive(out _));

        release.Set();
        Assert.True(thread.Join(TestEngine.Timeout), "the store thread did not end");

        Assert.False(engine.IsLive(out var why));
        Assert.Equal("storage thread 'test store writer' is not alive", why);
        Assert.False(engine.IsReady(out _));

        time.AdvanceUntil(() => engine.FirstFailure is not null, TimeSpan.FromSeconds(1), "the supervisor to notice the store thread");
        Assert.Equal("test store writer", engine.FirstFailure!.WorkerId);
        Assert.Equal("ended", engine.FirstFailure.Kind);
        Assert.Equal(QueueEngine.ExitCodeWorkerFaulted, engine.ExitCode);
        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void AStoreThreadNotYetStartedIsNotTakenForADeadOne()
    {
        var time = FakeClock.Create();
        var thread = new Thread(() => { }) { Name = "lazy store thread", IsBackground = true };
        using var storage = new ThreadedStorage(new MemoryStorage(time), thread);
        using var engine = Create(storage, time);

        time.Advance(TimeSpan.FromMinutes(1));

        Assert.True(engine.IsLive(out var why), why);
        Assert.Null(engine.FirstFailure);
    }

    private static QueueEngine Create(IMessageStorage storage, TimeProvider time)
    {
        var options = new QueueApiOptions { Queues = { ["q"] = new QueueOptions { Workers = 1, Handler = "test" } } };
        var engine = new QueueEngine(Options.Create(options), _ => DelegateHandler.Ok(), time, NullLogger<QueueEngine>.Instance, storage: storage);
        engine.Start();
        return engine;
    }

    /// <summary>The memory store with a background thread of its own, as a durable store has.</summary>
    private sealed class ThreadedStorage(MemoryStorage inner, Thread thread) : IMessageStorage
    {
        public string Provider => inner.Provider;

        public bool IsDurable => inner.IsDurable;

        public IReadOnlyList<Thread> Threads => [thread];

        public IQueueStore Open(string queueName, QueueOptions options) => inner.Open(queueName, options);

        public ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken) => inner.CheckHealthAsync(cancellationToken);

        public void Dispose() => inner.Dispose();
    }
}
