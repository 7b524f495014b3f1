using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>An ended storage thread counts against liveness only while the engine runs: before it starts, nothing is expected to run yet.</summary>
public sealed class HealthStoreThreadTests
{
    /// <summary>The memory storage, reporting one background thread that has already ended.</summary>
    private sealed class EndedThreadStorage : IMessageStorage
    {
        private readonly MemoryStorage _inner = new(TimeProvider.System);

        public EndedThreadStorage()
        {
            var thread = new Thread(() => { }) { IsBackground = true, Name = "ended store thread" };
            thread.Start();
            Assert.True(thread.Join(TestEngine.Timeout), "the store thread to end");
            Threads = [thread];
        }

        public string Provider => _inner.Provider;

        public bool IsDurable => _inner.IsDurable;

        public IReadOnlyList<Thread> Threads { get; }

        public IQueueStore Open(string queueName, QueueOptions options) => _inner.Open(queueName, options);

        public ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken) => _inner.CheckHealthAsync(cancellationToken);

        public void Dispose() => _inner.Dispose();
    }

    [Fact]
    public void AnEngineNotYetStartedIsLiveWhateverItsStoreThreadsDo()
    {
        var options = new QueueApiOptions { Queues = { ["q"] = new QueueOptions { Workers = 1, Handler = "test" } } };
        using var engine = new QueueEngine(
            Options.Create(options), _ => DelegateHandler.Ok(), TimeProvider.System, NullLogger<QueueEngine>.Instance, metrics: null, storage: new EndedThreadStorage());

        Assert.True(engine.IsLive(out var why));
        Assert.Equal("engine created", why);
    }
}
