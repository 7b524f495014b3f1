using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>
/// Issue 15's features as every store must keep them: the trace parent, delayed delivery (scheduled messages,
/// due order, never early) and cancelling a message that has not started. Time is the fake clock: a store's
/// schedule must follow the <see cref="TimeProvider"/> it was given.
/// </summary>
public abstract partial class QueueStoreContractTests
{
    /// <summary>
    /// Skips (with the reason) a test of a feature the store under test does not declare yet, so a store that has
    /// not caught up shows what is left to do as skipped tests instead of failing the build.
    /// </summary>
    protected void Requires(StoreFeatures feature) =>
        Assert.SkipUnless(Storage.Features.HasFlag(feature), $"The {Storage.Provider} store does not implement {feature} yet (IMessageStorage.Features).");

    protected QueueMessage Delayed(TimeSpan delay, string payload = "{}")
    {
        var m = NewMessage(payload);
        m.DueAt = Time.GetUtcNow() + delay;
        return m;
    }

    protected QueueMessage AcceptDelayed(IQueueStore store, TimeSpan delay, string payload = "{}")
    {
        var m = Delayed(delay, payload);
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, m));
        return m;
    }

    protected QueueMessage Keyed(string key, string payload = "{}")
    {
        var m = NewMessage(payload);
        m.SetIdempotencyKey(key, Queues.WorkQueue.RequestHash(System.Text.Encoding.UTF8.GetBytes(payload)));
        return m;
    }

    protected static CancelResult Cancel(IQueueStore store, string id) =>
        store.CancelAsync(id, TestContext.Current.CancellationToken).AsTask().WaitAsync(TestEngine.Timeout).ConfigureAwait(false).GetAwaiter().GetResult();

    [Fact]
    public void AMessageKeepsTheTraceParentItWasEnqueuedWith()
    {
        Requires(StoreFeatures.TraceContext);
        var store = Open();
        var traced = NewMessage();
        traced.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Enqueue(store, traced);

        Assert.Equal(traced.TraceParent, Find(store, traced.Id)!.TraceParent);
        Assert.Equal(traced.TraceParent, Claim(store, W0).TraceParent);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", traced.TraceId);
    }

    [Fact]
    public void ADelayedMessageIsScheduledUntilItsDueTimeAndNeverHandedOutEarly()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var m = AcceptDelayed(store, TimeSpan.FromSeconds(10));

        var seen = Find(store, m.Id)!;
        Assert.Equal(MessageStatus.Scheduled, seen.Status);
        Assert.Equal(m.DueAt, seen.DueAt);
        Assert.Equal((1, 0), (store.Counts().Scheduled, store.Counts().Queued));
        AssertBalanced(store);
        Assert.False(store.TryClaimNow(W0, out _));

        Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.False(store.TryClaimNow(W0, out _), "handed out a tick before its due time");

        Time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(m.Id, Claim(store, W0).Id);
        Assert.Equal((0, 0), (store.Counts().Scheduled, store.Counts().Queued));
    }

    [Fact]
    public void DueMessagesAreHandedOutInDueOrderWhateverTheOrderTheyCameIn()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var at30 = AcceptDelayed(store, TimeSpan.FromSeconds(30)).Id;
        var at10 = AcceptDelayed(store, TimeSpan.FromSeconds(10)).Id;
        var at20 = AcceptDelayed(store, TimeSpan.FromSeconds(20)).Id;

        Time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal([at10, at20, at30], Enumerable.Range(0, 3).Select(_ => Claim(store, W0).Id));
    }

    [Fact]
    public void AnEarlierDueMessageEnqueuedLaterComesDueFirst()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var late = AcceptDelayed(store, TimeSpan.FromMinutes(1)).Id;
        var early = AcceptDelayed(store, TimeSpan.FromSeconds(5)).Id;

        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(early, Claim(store, W0).Id);
        Assert.False(store.TryClaimNow(W0, out _));
        Time.Advance(TimeSpan.FromSeconds(55));
        Assert.Equal(late, Claim(store, W0).Id);
    }

    [Fact]
    public void AMessageDueNowOrInThePastIsQueuedAtOnce()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var m = AcceptDelayed(store, TimeSpan.FromSeconds(-1));

        Assert.Equal(MessageStatus.Queued, Find(store, m.Id)!.Status);
        Assert.Equal(m.Id, Claim(store, W0).Id);
    }

    [Fact]
    public async Task AClaimWaitingForWorkTakesAMessageAsSoonAsItComesDue()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var m = AcceptDelayed(store, TimeSpan.FromSeconds(5));
        var claim = Task.Factory.StartNew(
            () => (store.TryClaim(W0, out var taken, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), taken),
            TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Time.Advance(TimeSpan.FromSeconds(5));

        var (result, taken) = await claim.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(TakeResult.Taken, result);
        Assert.Equal(m.Id, taken!.Id);
    }

    [Fact]
    public async Task ScheduledMessagesCountAgainstCapacityAndABatchIsStillAllOrNone()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open(Options(capacity: 3));
        AcceptDelayed(store, TimeSpan.FromMinutes(1));
        Accept(store);
        var batch = new[] { Delayed(TimeSpan.FromMinutes(1)), NewMessage() };

        Assert.Equal(EnqueueStatus.Full, await store.EnqueueBatchAsync(batch, TestContext.Current.CancellationToken));
        Assert.All(batch, m => Assert.Null(Find(store, m.Id)));
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, Delayed(TimeSpan.FromMinutes(1))));
        Assert.Equal(EnqueueStatus.Full, Enqueue(store, NewMessage()));
        Assert.Equal((2, 1), (store.Counts().Scheduled, store.Counts().Queued));
        AssertBalanced(store);
    }

    [Fact]
    public async Task ABatchMayMixDelayedAndPlainMessages()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var batch = new[] { Delayed(TimeSpan.FromSeconds(10)), NewMessage(), Delayed(TimeSpan.FromSeconds(5)) };

        Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueBatchAsync(batch, TestContext.Current.CancellationToken));

        Assert.Equal(batch[1].Id, Claim(store, W0).Id);
        Assert.False(store.TryClaimNow(W0, out _));
        Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal([batch[2].Id, batch[0].Id], new[] { Claim(store, W0).Id, Claim(store, W0).Id });
    }

    [Fact]
    public void CancellingAScheduledMessageDropsItAsCancelledAndItNeverRuns()
    {
        Requires(StoreFeatures.Cancel);
        var store = Open(Options(capacity: 1));
        var m = AcceptDelayed(store, TimeSpan.FromSeconds(10));

        Assert.Equal(CancelResult.Done, Cancel(store, m.Id));

        var c = store.Counts();
        Assert.Equal((0, 1L, 1L), (c.Scheduled, c.Dropped, c.DroppedReasons["cancelled"]));
        AssertBalanced(store);
        Assert.Equal(MessageStatus.Dropped, Find(store, m.Id)?.Status ?? MessageStatus.Dropped);
        Time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(store.TryClaimNow(W0, out _), "a cancelled message was handed out");
        Accept(store); // Its room is free again.
        // Gone from lookups or shown dropped: either way it is not cancelled twice.
        Assert.Contains(Cancel(store, m.Id), new[] { CancelResult.NotFound, CancelResult.Finished });
    }

    [Fact]
    public void CancellingAQueuedMessageDropsItAndFreesItsRoom()
    {
        Requires(StoreFeatures.Cancel);
        var store = Open(Options(capacity: 2));
        var first = Accept(store).Id;
        var second = Accept(store).Id;

        Assert.Equal(CancelResult.Done, Cancel(store, first));

        Assert.Equal((1, 1L), (store.Counts().Queued, store.Counts().DroppedReasons["cancelled"]));
        AssertBalanced(store);
        var third = Accept(store).Id;
        Assert.Equal([second, third], new[] { Claim(store, W0).Id, Claim(store, W0).Id });
        Assert.False(store.TryClaimNow(W0, out _));
    }

    [Fact]
    public void AMessageAWorkerHoldsCannotBeCancelledAndAFinishedOneIsNotCancelledAgain()
    {
        Requires(StoreFeatures.Cancel);
        var store = Open();
        var claimed = Accept(store);
        Claim(store, W0);
        var running = Accept(store);
        ClaimAndStart(store, W1);

        Assert.Equal(CancelResult.Running, Cancel(store, claimed.Id));
        Assert.Equal(CancelResult.Running, Cancel(store, running.Id));
        Finish(store, running, W1, MessageStatus.Succeeded);
        Assert.Equal(CancelResult.Finished, Cancel(store, running.Id));
        Assert.Equal(CancelResult.NotFound, Cancel(store, "00000000000000000000"));
        Assert.Equal(MessageStatus.Succeeded, Find(store, running.Id)!.Status);
    }

    [Fact]
    public void AStopLeavesScheduledMessagesDroppedOrKeptWhenDurable()
    {
        Requires(StoreFeatures.DelayedDelivery);
        var store = Open();
        var m = AcceptDelayed(store, TimeSpan.FromMinutes(1));
        store.StopAccepting();
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(TakeResult.Completed, store.TryClaim(W0, out _, TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken));

        var left = store.Settle("immediate shutdown");

        var c = store.Counts();
        if (Storage.IsDurable)
        {
            Assert.Equal(new StopLeftover(0, 1), left);
            Assert.Equal(0L, c.Dropped);
        }
        else
        {
            Assert.Equal(new StopLeftover(1, 0), left);
            Assert.Equal((0, 1L), (c.Scheduled, c.DroppedReasons["immediate shutdown"]));
            Assert.Equal(MessageStatus.Dropped, Find(store, m.Id)?.Status ?? MessageStatus.Dropped);
        }

        AssertBalanced(store);
    }

    [Fact]
    public void ARepeatedKeyWithTheSameBodyStoresNothingAndNamesTheFirstMessage()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open();
        var first = Keyed("order-42", """{"n":1}""");
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, first));

        var repeat = Keyed("order-42", """{"n":1}""");
        Assert.Equal(EnqueueStatus.Duplicate, Enqueue(store, repeat));

        Assert.Equal((first.Id, MessageStatus.Queued), (repeat.ReplayOf, repeat.ReplayStatus));
        Assert.Null(Find(store, repeat.Id));
        Assert.Equal(1, store.Counts().Accepted);
        Assert.Equal(first.Id, Claim(store, W0).Id);
        Assert.False(store.TryClaimNow(W0, out _));
    }

    [Fact]
    public void ARepeatedKeyWithAnotherBodyIsAConflictAndStoresNothing()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open();
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, Keyed("k", """{"n":1}""")));

        var other = Keyed("k", """{"n":2}""");

        Assert.Equal(EnqueueStatus.KeyConflict, Enqueue(store, other));
        Assert.Null(other.ReplayOf);
        Assert.Equal(1, store.Counts().Accepted);
    }

    [Fact]
    public void AKeyIsForgottenOnceItsWindowHasPassed()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open(new Configuration.QueueOptions { Capacity = 100, Workers = 2, IdempotencyWindow = TimeSpan.FromHours(1) });
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, Keyed("k")));

        Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(EnqueueStatus.Duplicate, Enqueue(store, Keyed("k")));
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, Keyed("k")));
        Assert.Equal(2, store.Counts().Accepted);
    }

    [Fact]
    public void ARepeatAfterTheFirstFinishedAndLeftLookupsStillLearnsHowItEnded()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open(Options(retain: 0));
        var first = Keyed("k");
        Enqueue(store, first);
        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.Succeeded);
        Assert.Null(Find(store, first.Id));

        var repeat = Keyed("k");

        Assert.Equal(EnqueueStatus.Duplicate, Enqueue(store, repeat));
        Assert.Equal((first.Id, MessageStatus.Succeeded), (repeat.ReplayOf, repeat.ReplayStatus));
    }

    [Fact]
    public void AKeyedMessageRefusedForRoomLeavesItsKeyUnused()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open(Options(capacity: 1));
        Accept(store);

        Assert.Equal(EnqueueStatus.Full, Enqueue(store, Keyed("k")));
        Claim(store, W0);

        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, Keyed("k")));
    }

    [Fact]
    public async Task SixteenConcurrentUsesOfOneKeyStoreOneMessageAndTheRestNameIt()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open();
        var messages = Enumerable.Range(0, 16).Select(_ => Keyed("once")).ToArray();

        var statuses = await Task.WhenAll(messages.Select(m => Task.Run(async () => await store.EnqueueAsync(m, TestContext.Current.CancellationToken))));

        var first = Assert.Single(messages, m => m.ReplayOf is null);
        Assert.Equal(15, statuses.Count(s => s == EnqueueStatus.Duplicate));
        Assert.All(messages.Where(m => m != first), m => Assert.Equal(first.Id, m.ReplayOf));
        Assert.Equal(1, store.Counts().Accepted);
    }

    [Fact]
    public async Task ABatchStoresItsNewItemsAndMarksItsRepeatsAndAConflictStoresNone()
    {
        Requires(StoreFeatures.IdempotencyKeys);
        var store = Open();
        var first = Keyed("a");
        Enqueue(store, first);
        var batch = new[] { Keyed("a"), Keyed("b"), NewMessage(), Keyed("b") };

        Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueBatchAsync(batch, TestContext.Current.CancellationToken));

        Assert.Equal(first.Id, batch[0].ReplayOf);
        Assert.Null(batch[1].ReplayOf);
        Assert.Equal(batch[1].Id, batch[3].ReplayOf);
        Assert.Equal(3, store.Counts().Accepted);
        var conflicting = new[] { Keyed("c"), Keyed("a", """{"other":true}""") };
        Assert.Equal(EnqueueStatus.KeyConflict, await store.EnqueueBatchAsync(conflicting, TestContext.Current.CancellationToken));
        Assert.Equal(3, store.Counts().Accepted);
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, Keyed("c")));
    }
}
