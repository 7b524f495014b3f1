using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>
/// What a durable store adds to the contract: what it accepted survives the process. <see cref="QueueStoreContractBase.Reopen"/>
/// ends the storage the way a crash does (nothing settled, no stop), and the next open must find it all again.
/// The in-memory store does not derive from this class: it makes no such promise.
/// </summary>
public abstract partial class DurableQueueStoreContractTests : QueueStoreContractTests
{
    [Fact]
    public void TheStorageSaysItIsDurable() => Assert.True(Storage.IsDurable);

    [Fact]
    public void AcceptedMessagesSurviveARestartInTheirOrder()
    {
        var store = Open();
        var ids = Enumerable.Range(0, 3).Select(_ => Accept(store).Id).ToList();

        Reopen();
        store = Open();

        Assert.Equal(ids, Enumerable.Range(0, 3).Select(_ => Claim(store, W0).Id));
        Assert.Equal(3, store.Counts().Accepted);
    }

    /// <summary>
    /// What happens to a message after a restart is kept too: one finished in the second run is not delivered in the
    /// third. (A store that loaded it from somewhere its later writes do not reach would run it again.)
    /// </summary>
    [Fact]
    public void AMessageFinishedAfterARestartStaysFinishedAfterTheNext()
    {
        var store = Open();
        var first = Accept(store).Id;
        var second = Accept(store).Id;

        Reopen();
        store = Open();
        var taken = ClaimAndStart(store, W0);
        Assert.Equal(first, taken.Id);
        Finish(store, taken, W0, MessageStatus.Succeeded);

        Reopen();
        store = Open();

        Assert.Equal(second, Claim(store, W0).Id);
        Assert.Equal(MessageStatus.Succeeded, Find(store, first)!.Status);
        var c = store.Counts();
        Assert.Equal((2L, 1L), (c.Accepted, c.Succeeded));
    }

    [Fact]
    public void AMessageInFlightAtACrashIsQueuedAgainWithItsAttemptCountedAndNotAcceptedTwice()
    {
        var store = Open();
        var id = Accept(store).Id;
        ClaimAndStart(store, W0);

        Reopen();
        store = Open();

        var again = Claim(store, W0);
        Assert.Equal(id, again.Id);
        Assert.True(again.Attempts >= 1, "the interrupted attempt is counted");
        var c = store.Counts();
        Assert.Equal((1L, 0), (c.Accepted, c.InFlight));
    }

    [Fact]
    public void TheBooksDeadLettersRetainedMessagesAndThePausedFlagSurviveARestart()
    {
        var store = Open();
        var done = Accept(store).Id;
        var dead = Accept(store).Id;
        Accept(store);
        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.Succeeded);
        Finish(store, ClaimAndStart(store, W0), W0, MessageStatus.DeadLettered, "X: failed");
        store.SetPaused(true);
        var before = store.Counts();

        Reopen();
        store = Open();

        var after = store.Counts();
        Assert.Equal(
            (before.Accepted, before.Succeeded, before.DeadLettered, before.Queued),
            (after.Accepted, after.Succeeded, after.DeadLettered, after.Queued));
        Assert.Equal(MessageStatus.Succeeded, Find(store, done)!.Status);
        Assert.Equal([dead], store.DeadLetters(10).Select(m => m.Id));
        Assert.True(store.IsPaused);
        AssertBalanced(store);
    }

    [Fact]
    public void WhatAStopKeptIsThereAtTheNextStart()
    {
        var store = Open();
        var id = Accept(store).Id;
        store.StopAccepting();
        Assert.Equal(new StopLeftover(0, 1), store.Settle("drain deadline passed"));

        Reopen();
        store = Open();

        Assert.Equal(id, Claim(store, W0).Id);
        Assert.Equal(0, store.Counts().Dropped);
    }
}
