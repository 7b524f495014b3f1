using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>Issue 16's priorities as a durable store must keep them across a restart.</summary>
public abstract partial class DurableQueueStoreContractTests
{
    [Fact]
    public async Task MessagesOfMixedPrioritiesSurviveARestartAndAreStillClaimedInPriorityOrder()
    {
        Requires(StoreFeatures.Priorities);
        var options = Options();
        options.PriorityAging = TimeSpan.FromSeconds(30);
        var store = Open(options);
        var old = Accept(store); // 5, and 7 by the time the others arrive
        var done = AcceptWithPriority(store, 8);
        Assert.Equal(done.Id, ClaimAndStart(store, W0).Id);
        Finish(store, done, W0, MessageStatus.Succeeded);
        Time.Advance(TimeSpan.FromSeconds(60));
        var seven = AcceptWithPriority(store, 7);
        var low = NewMessage();
        low.Priority = 1;
        var high = NewMessage();
        high.Priority = 9;
        Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueBatchAsync([low, high], TestContext.Current.CancellationToken));

        Reopen();
        store = Open(options);

        Assert.Equal([(9, 1), (7, 1), (5, 1), (1, 1)], store.Priorities().Select(l => (l.Priority, l.Queued)));
        Assert.Equal(old.EnqueuedAt, store.Priorities()[2].OldestWaitingSince);
        Assert.Equal((1, 9, 8), (Find(store, low.Id)!.Priority, Find(store, high.Id)!.Priority, Find(store, done.Id)!.Priority));
        // The stored enqueue times still count: the old 5 has aged to 7 and has waited longer than the 7.
        var order = Enumerable.Range(0, 4).Select(_ => Claim(store, W0).Id).ToList();
        Assert.Equal([high.Id, old.Id, seven.Id, low.Id], order);
        Assert.False(store.TryClaimNow(W0, out _));
    }
}
