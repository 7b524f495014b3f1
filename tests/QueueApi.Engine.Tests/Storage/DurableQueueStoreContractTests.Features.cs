using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>Issue 15's features as a durable store must keep them across a restart.</summary>
public abstract partial class DurableQueueStoreContractTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void TheTraceParentOfAMessageSurvivesARestart()
    {
        Requires(StoreFeatures.TraceContext);
        var store = Open();
        var traced = NewMessage();
        traced.TraceParent = TraceParent;
        Enqueue(store, traced);
        var untraced = Accept(store).Id;

        Reopen();
        store = Open();

        Assert.Equal(TraceParent, Find(store, traced.Id)!.TraceParent);
        Assert.Null(Find(store, untraced)!.TraceParent);
    }

    [Fact]
    public void AScheduledMessageSurvivesARestartAndStillWaitsForItsDueTime()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var m = AcceptDelayed(store, TimeSpan.FromSeconds(30));
        var cancelled = AcceptDelayed(store, TimeSpan.FromSeconds(10));
        Assert.Equal(CancelResult.Done, Cancel(store, cancelled.Id));

        Reopen();
        store = Open();

        Assert.Equal((MessageStatus.Scheduled, m.DueAt), (Find(store, m.Id)!.Status, Find(store, m.Id)!.DueAt));
        Assert.Equal((1, 1L), (store.Counts().Scheduled, store.Counts().DroppedReasons["cancelled"]));
        Time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(store.TryClaimNow(W0, out _));
        Time.Advance(TimeSpan.FromSeconds(1));
        // Started, not just claimed: a bare claim is between buckets until the worker reports Processing.
        Assert.Equal(m.Id, ClaimAndStart(store, W0).Id);
        AssertBalanced(store);
    }

    [Fact]
    public async Task ABatchMixingDelayedKeyedAndPlainMessagesKeepsEachAcrossARestart()
    {
        Requires(StoreFeatures.DelayedDelivery | StoreFeatures.IdempotencyKeys);
        var store = Open();
        var delayed = NewMessage();
        delayed.DueAt = Time.GetUtcNow() + TimeSpan.FromSeconds(30);
        var batch = new[] { NewMessage(), delayed, Keyed("batch-key"), NewMessage() };
        Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueBatchAsync(batch, TestContext.Current.CancellationToken));

        Reopen();
        store = Open();

        Assert.Equal((MessageStatus.Scheduled, delayed.DueAt), (Find(store, delayed.Id)!.Status, Find(store, delayed.Id)!.DueAt));
        Assert.Equal(EnqueueStatus.Duplicate, Enqueue(store, Keyed("batch-key")));
        Assert.Equal((3, 1), (store.Counts().Queued, store.Counts().Scheduled));
        AssertBalanced(store);
    }

    [Fact]
    public void AnIdempotencyKeySurvivesARestart()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open();
        var first = Keyed("order-7");
        Enqueue(store, first);

        Reopen();
        store = Open();

        var repeat = Keyed("order-7");
        Assert.Equal(EnqueueStatus.Duplicate, Enqueue(store, repeat));
        Assert.Equal(first.Id, repeat.ReplayOf);
        Assert.Equal(EnqueueStatus.KeyConflict, Enqueue(store, Keyed("order-7", """{"changed":true}""")));
    }
}
