using QueueApi.Engine.Configuration;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The runtime's pause gate follows the stored flag both ways, and a drain (store no longer accepting) opens it.</summary>
public sealed class QueueRuntimeTests
{
    private static QueueRuntime Runtime(out Engine.Storage.IQueueStore store)
    {
        var time = FakeClock.Create();
        var options = new QueueOptions { Workers = 1, Capacity = 10, Handler = "test" };
        store = new MemoryStorage(time).Open("q", options);
        return new QueueRuntime("q", options, store, DelegateHandler.Ok(), time, CancellationToken.None);
    }

    [Fact]
    public void SyncPausedClosesTheGateWhenTheStoreSaysPausedAndOpensItWhenNot()
    {
        var runtime = Runtime(out var store);
        Assert.False(runtime.SyncPaused());
        Assert.False(runtime.Pause.IsPaused);

        store.SetPaused(true); // as another replica of a shared store would
        Assert.True(runtime.SyncPaused());
        Assert.True(runtime.Pause.IsPaused);

        store.SetPaused(false);
        Assert.False(runtime.SyncPaused());
        Assert.False(runtime.Pause.IsPaused);
    }

    [Fact]
    public void OnceTheStoreStopsAcceptingAPausedQueueRunsSoADrainFinishesIt()
    {
        var runtime = Runtime(out var store);
        store.SetPaused(true);
        Assert.True(runtime.SyncPaused());

        store.StopAccepting();

        Assert.False(runtime.SyncPaused());
        Assert.False(runtime.Pause.IsPaused);
    }
}
