using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>
/// What every store must do, whatever keeps its messages. A store plugs in by deriving and implementing
/// <see cref="QueueStoreContractBase.CreateStorage"/>; durable stores derive from
/// <see cref="DurableQueueStoreContractTests"/>, which adds what must survive a restart. No test waits for a clock
/// to pass a timeout, except the bounded claim waits, which are the subject of their tests and last milliseconds.
/// </summary>
public abstract partial class QueueStoreContractTests : QueueStoreContractBase
{
    [Fact]
    public void MessagesAreClaimedInTheOrderTheyWereAccepted()
    {
        var store = Open();
        var ids = Enumerable.Range(0, 5).Select(i => Accept(store, $"{{\"n\":{i}}}").Id).ToList();

        var claimed = Enumerable.Range(0, 5).Select(i => Claim(store, i % 2 == 0 ? W0 : W1).Id).ToList();

        Assert.Equal(ids, claimed);
        Assert.False(store.TryClaimNow(W0, out _));
    }

    [Fact]
    public void AnAcceptedMessageIsReadableByIdAsQueuedWithItsPayload()
    {
        var store = Open();
        var m = Accept(store, "{\"a\":1}");

        var found = Find(store, m.Id);

        Assert.NotNull(found);
        Assert.Equal(MessageStatus.Queued, found.Status);
        Assert.Equal("{\"a\":1}", System.Text.Encoding.UTF8.GetString(found.Payload));
        Assert.Equal(1, store.QueuedCount);
        Assert.Equal(1, store.Counts().Accepted);
        AssertBalanced(store);
    }

    [Fact]
    public void AFullStoreRefusesAMessageAndKeepsNothingOfIt()
    {
        var store = Open(Options(capacity: 2));
        Accept(store);
        Accept(store);

        var refused = NewMessage();
        Assert.Equal(EnqueueStatus.Full, Enqueue(store, refused));

        Assert.Null(Find(store, refused.Id));
        Assert.Equal(2, store.Counts().Accepted);
        Assert.Equal(2, store.QueuedCount);
        AssertBalanced(store);
    }

    [Fact]
    public async Task ABatchIsAcceptedWholeOrNotAtAll()
    {
        var store = Open(Options(capacity: 3));
        var tooBig = Enumerable.Range(0, 4).Select(_ => NewMessage()).ToList();

        Assert.Equal(EnqueueStatus.Full, await store.EnqueueBatchAsync(tooBig, TestContext.Current.CancellationToken));
        Assert.All(tooBig, m => Assert.Null(Find(store, m.Id)));
        Assert.Equal(0, store.Counts().Accepted);

        var fits = tooBig.Take(3).ToList();
        Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueBatchAsync(fits, TestContext.Current.CancellationToken));
        Assert.Equal(fits.Select(m => m.Id), Enumerable.Range(0, 3).Select(_ => Claim(store, W0).Id));
        Assert.Equal(3, store.Counts().Accepted);
    }

    [Fact]
    public void AClaimedMessageGoesThroughProcessingToSucceeded()
    {
        var store = Open();
        var id = Accept(store).Id;

        var m = ClaimAndStart(store, W0);
        var processing = Find(store, id)!;
        Assert.Equal(MessageStatus.Processing, processing.Status);
        Assert.Equal(1, processing.Attempts);
        Assert.Equal(W0.WorkerId, processing.WorkerId);
        Assert.Equal(Time.GetUtcNow(), processing.StartedAt);
        Assert.Equal(1, store.Counts().InFlight);
        AssertBalanced(store);

        Time.Advance(TimeSpan.FromSeconds(2));
        Finish(store, m, W0, MessageStatus.Succeeded);

        var done = Find(store, id)!;
        Assert.Equal(MessageStatus.Succeeded, done.Status);
        Assert.Equal(Time.GetUtcNow(), done.CompletedAt);
        var c = store.Counts();
        Assert.Equal((1L, 0, 0), (c.Succeeded, c.InFlight, c.Queued));
        AssertBalanced(store);
    }

    [Fact]
    public void ARetryingMessageCountsAsRetryingWithItsNextAttemptTimeAndItsError()
    {
        var store = Open();
        var id = Accept(store).Id;
        var m = ClaimAndStart(store, W0);

        var next = Time.GetUtcNow() + TimeSpan.FromSeconds(3);
        store.Retrying(m, W0, next, "InvalidOperationException: boom");

        var retrying = Find(store, id)!;
        Assert.Equal(MessageStatus.Retrying, retrying.Status);
        Assert.Equal(next, retrying.NextAttemptAt);
        Assert.Equal("InvalidOperationException: boom", retrying.Error);
        Assert.Equal((0, 1), (store.Counts().InFlight, store.Counts().Retrying));
        AssertBalanced(store);

        Time.Advance(TimeSpan.FromSeconds(3));
        store.Processing(m, W0, Time.GetUtcNow());
        store.AttemptStarted(m, W0);
        var again = Find(store, id)!;
        Assert.Equal((MessageStatus.Processing, 2, (DateTimeOffset?)null), (again.Status, again.Attempts, again.NextAttemptAt));
        Finish(store, m, W0, MessageStatus.Failed, "gave up");
        Assert.Equal(1, store.Counts().Failed);
        AssertBalanced(store);
    }

    [Fact]
    public async Task AnExhaustedMessageBecomesADeadLetterThatCanBeListedAndRequeuedWithItsAttemptsReset()
    {
        var store = Open();
        var id = Accept(store).Id;
        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.DeadLettered, "X: failed");

        Assert.Equal(1, store.DeadLetterCount);
        Assert.Equal([id], store.DeadLetters(10).Select(m => m.Id));
        Assert.Equal(1, store.Counts().DeadLettered);
        AssertBalanced(store);

        Assert.Equal(DeadLetterResult.Done, await store.RequeueDeadLetterAsync(id, TestContext.Current.CancellationToken));

        var requeued = Find(store, id)!;
        Assert.Equal((MessageStatus.Queued, 0), (requeued.Status, requeued.Attempts));
        var c = store.Counts();
        Assert.Equal((0L, 1, 1L), (c.DeadLettered, c.Queued, c.Accepted)); // moved, not accepted twice
        Assert.Equal(0, store.DeadLetterCount);
        Assert.Equal(id, Claim(store, W1).Id);
        Assert.Equal(DeadLetterResult.NotFound, await store.RequeueDeadLetterAsync(id, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ADeletedDeadLetterCountsAsDroppedWithItsReasonAndIsGone()
    {
        var store = Open();
        var id = Accept(store).Id;
        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.DeadLettered, "X: failed");

        Assert.Equal(DeadLetterResult.Done, await store.DeleteDeadLetterAsync(id, TestContext.Current.CancellationToken));

        Assert.Null(Find(store, id));
        var c = store.Counts();
        Assert.Equal((0L, 1L), (c.DeadLettered, c.Dropped));
        Assert.Equal(1, c.DroppedReasons["deleted from dead letters"]);
        Assert.Equal(DeadLetterResult.NotFound, await store.DeleteDeadLetterAsync(id, TestContext.Current.CancellationToken));
        AssertBalanced(store);
    }

    [Fact]
    public async Task ARequeueIntoAFullQueueLeavesTheDeadLetterWhereItWas()
    {
        var store = Open(Options(capacity: 1));
        var id = Accept(store).Id;
        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.DeadLettered, "X: failed");
        Accept(store);

        Assert.Equal(DeadLetterResult.QueueFull, await store.RequeueDeadLetterAsync(id, TestContext.Current.CancellationToken));

        Assert.Equal(MessageStatus.DeadLettered, Find(store, id)!.Status);
        Assert.Equal(1, store.DeadLetterCount);
        AssertBalanced(store);
    }

    [Fact]
    public void WithNoRoomForDeadLettersAnExhaustedMessageEndsFailed()
    {
        var store = Open(Options(deadLetters: 0));
        var id = Accept(store).Id;

        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.DeadLettered, "X: failed");

        Assert.Equal(MessageStatus.Failed, Find(store, id)!.Status);
        Assert.Equal((1L, 0L, 0), (store.Counts().Failed, store.Counts().DeadLettered, store.DeadLetterCount));
        AssertBalanced(store);
    }

    [Fact]
    public void PastItsCapacityTheOldestDeadLetterIsNoLongerKeptButStaysCounted()
    {
        var store = Open(Options(deadLetters: 2));
        var ids = Enumerable.Range(0, 3).Select(_ => Accept(store).Id).ToList();
        for (var i = 0; i < 3; i++)
        {
            Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.DeadLettered, "X: failed");
        }

        Assert.Equal(ids.Skip(1), store.DeadLetters(10).Select(m => m.Id));
        Assert.Null(Find(store, ids[0]));
        Assert.Equal(3, store.Counts().DeadLettered);
        Assert.Equal(ids.Skip(1).Take(1), store.DeadLetters(1).Select(m => m.Id));
        AssertBalanced(store);
    }

    [Fact]
    public void FinishedMessagesStayReadableUpToRetainFinishedThenAreEvictedFromLookups()
    {
        // One worker, so its share is the whole of RetainFinished.
        var store = Open(Options(workers: 1, retain: 2));
        var ids = Enumerable.Range(0, 3).Select(_ => Accept(store).Id).ToList();
        for (var i = 0; i < 3; i++)
        {
            Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.Succeeded);
        }

        Assert.Null(Find(store, ids[0]));
        Assert.Equal(MessageStatus.Succeeded, Find(store, ids[1])!.Status);
        Assert.Equal(MessageStatus.Succeeded, Find(store, ids[2])!.Status);
        Assert.Equal(3, store.Counts().Succeeded); // evicted from lookups, never from the books
    }

    [Fact]
    public void ThePausedFlagIsStored()
    {
        var store = Open();
        Assert.False(store.IsPaused);

        store.SetPaused(true);
        Assert.True(store.IsPaused);

        store.SetPaused(false);
        Assert.False(store.IsPaused);
    }

    [Fact]
    public void AfterStopAcceptingNewMessagesAreRefusedButStoredOnesAreStillHandedOutThenCompleted()
    {
        var store = Open();
        var kept = Accept(store).Id;

        store.StopAccepting();

        Assert.False(store.IsAccepting);
        Assert.Equal(EnqueueStatus.ShuttingDown, Enqueue(store, NewMessage()));
        Assert.Equal(TakeResult.Taken, store.TryClaim(W0, out var m, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Equal(kept, m!.Id);
        Assert.Equal(TakeResult.Completed, store.TryClaim(W0, out _, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        store.StopAccepting(); // idempotent
    }

    [Fact]
    public void WhatAStopLeavesQueuedIsDroppedWithTheReasonOrKeptWhenDurable()
    {
        var store = Open();
        var ids = Enumerable.Range(0, 3).Select(_ => Accept(store).Id).ToList();
        store.StopAccepting();

        var left = store.Settle("immediate shutdown");

        var c = store.Counts();
        if (Storage.IsDurable)
        {
            Assert.Equal(new StopLeftover(0, 3), left);
            Assert.Equal((0L, 3), (c.Dropped, c.Queued));
        }
        else
        {
            Assert.Equal(new StopLeftover(3, 0), left);
            Assert.Equal((3L, 0), (c.Dropped, c.Queued));
            Assert.Equal(3, c.DroppedReasons["immediate shutdown"]);
            Assert.All(ids, id => Assert.Equal(MessageStatus.Dropped, Find(store, id)?.Status ?? MessageStatus.Dropped));
        }

        AssertBalanced(store);
    }

    [Fact]
    public void AMessageReleasedByAStopEndsFailedOrIsKeptWhenDurable()
    {
        var store = Open();
        var id = Accept(store).Id;
        var m = ClaimAndStart(store, W0);
        store.StopAccepting();

        store.Release(m, W0, "cancelled by shutdown");

        var c = store.Counts();
        Assert.Equal(0, c.InFlight);
        if (Storage.IsDurable)
        {
            Assert.Equal((0L, 1), (c.Failed, c.Queued + c.Retrying));
        }
        else
        {
            Assert.Equal(1, c.Failed);
            Assert.Equal(("cancelled by shutdown", MessageStatus.Failed), (Find(store, id)!.Error, Find(store, id)!.Status));
        }

        AssertBalanced(store);
    }

    [Fact]
    public void AClaimOnAnEmptyStoreWaitsNoLongerThanItsTimeout()
    {
        var store = Open();

        var result = store.TryClaim(W0, out var m, TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);

        Assert.Equal(TakeResult.TimedOut, result);
        Assert.Null(m);
    }

    [Fact]
    public async Task AWaitingClaimEndsWhenItsTokenIsCancelled()
    {
        var store = Open();
        using var cts = new CancellationTokenSource();
        var claim = Task.Factory.StartNew(
            () => store.TryClaim(W0, out _, TimeSpan.FromMinutes(5), cts.Token), TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        cts.Cancel();

        Assert.Equal(TakeResult.Cancelled, await claim.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AWaitingClaimTakesAMessageAcceptedWhileItWaits()
    {
        var store = Open();
        var claim = Task.Factory.StartNew(
            () => (Result: store.TryClaim(W0, out var m, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken), Message: m),
            TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var id = Accept(store).Id;

        var (result, message) = await claim.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal((TakeResult.Taken, id), (result, message!.Id));
    }

    [Fact]
    public async Task AWaitingClaimEndsCompletedWhenTheStoreStopsAcceptingEmpty()
    {
        var store = Open();
        var claim = Task.Factory.StartNew(
            () => store.TryClaim(W0, out _, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken),
            TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        store.StopAccepting();

        Assert.Equal(TakeResult.Completed, await claim.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void TheBooksBalanceAcrossEveryOutcome()
    {
        var store = Open(Options(deadLetters: 5));
        for (var i = 0; i < 6; i++)
        {
            Accept(store);
        }

        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.Succeeded);
        Finish(store, ClaimAndStart(store, W1), W1, MessageStatus.Failed, "permanent");
        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.DeadLettered, "X: failed");
        var retrying = ClaimAndStart(store, W1);
        store.Retrying(retrying, W1, Time.GetUtcNow().AddSeconds(1), "X: again");
        ClaimAndStart(store, W0);
        AssertBalanced(store);

        var c = store.Counts();
        Assert.Equal((6L, 1L, 1L, 1L, 1, 1, 1), (c.Accepted, c.Succeeded, c.Failed, c.DeadLettered, c.InFlight, c.Retrying, c.Queued));
    }
}
