using Microsoft.Extensions.Logging;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// One pass of the runner: claim, enqueue, record per chunk; lost claims carried on from what is stored; a failure
/// of the store or of one schedule retried shortly without stopping the rest.
/// </summary>
public sealed class ScheduleRunnerTests
{
    private static readonly DateTimeOffset T0 = ScheduleHarness.T0;

    [Fact]
    public void AScheduleStoredInvalidIsSkippedAloneAndTriedAgainShortly()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("bad", "not a cron"));
        h.Put(ScheduleHarness.Definition("good", "* * * * *"));
        h.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(h.Time.GetUtcNow() + Scheduler.RetryDelay, h.Scheduler.RunDue());

        Assert.Equal(T0.AddMinutes(1), h.Get("good")!.LastRun!.Occurrence);
        Assert.Null(h.Get("bad")!.LastRun);
    }

    [Fact]
    public void AQueueThatStoppedAcceptingLeavesItsOccurrencesUnclaimed()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s"));
        h.Storage.Closed = true;
        h.Time.Advance(TimeSpan.FromSeconds(1));

        h.Scheduler.RunDue();

        Assert.Equal((T0, (ScheduleRun?)null), (h.Get("s")!.Cursor, h.Get("s")!.LastRun));
        Assert.Empty(h.Store.Claims);
    }

    [Fact]
    public void AClaimThatFailsIsLoggedAndTriedAgainShortly()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", "* * * * *"));
        h.Store.ClaimFault = new InvalidOperationException("the claim failed (test)");
        h.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(h.Time.GetUtcNow() + Scheduler.RetryDelay, h.Scheduler.RunDue());

        Assert.Equal(0, h.Accepted);
        Assert.Contains(h.Log.Entries, e => e.Level == LogLevel.Error && e.Error == h.Store.ClaimFault);
    }

    [Fact]
    public void ARecordThatFailsAfterAnAwaitFailsThePassLikeOneFailingAtOnce()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s"));
        h.Store.RecordsFailLater = true;
        h.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(h.Time.GetUtcNow() + Scheduler.RetryDelay, h.Scheduler.RunDue());

        Assert.Contains(h.Log.Entries, e => e.Error is InvalidOperationException { Message: "the record failed (test)" });
    }

    [Fact]
    public void ABatchTheQueueStoreCannotTakeIsNotRecordedAndTriedAgainShortly()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("a"));
        h.Put(ScheduleHarness.Definition("b"));
        h.Storage.Failing = true;
        h.Time.Advance(TimeSpan.FromSeconds(1));

        // Every second is due, but the failed pass looks again only after the retry delay.
        Assert.Equal(h.Time.GetUtcNow() + Scheduler.RetryDelay, h.Scheduler.RunDue());

        Assert.Equal((0, 1, 0), (h.Storage.Singles, h.Storage.Batches, h.Store.RecordCalls));
        Assert.Null(h.Get("a")!.LastRun);
        var failure = Assert.IsType<StorageUnavailableException>(h.Log.Entries.Single(e => e.Error is not null).Error);
        Assert.Equal("Queue 'q': the store could not take the schedules' messages now.", failure.Message);
    }

    [Fact]
    public void EachClaimNotesTheMessageAboutToBeEnqueuedAsItsPendingRun()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s"));
        h.Time.Advance(TimeSpan.FromSeconds(1));

        h.Scheduler.RunDue();

        var claim = Assert.Single(h.Store.Claims);
        Assert.Equal(new PendingRun("s", T0.AddSeconds(1), h.Get("s")!.LastRun!.MessageId!), claim.Pending);
    }

    [Fact]
    public void AClaimLostToAnotherSchedulerCarriesOnFromTheStoredCursor()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("a"));
        h.Put(ScheduleHarness.Definition("b"));
        h.Time.Advance(TimeSpan.FromSeconds(3));
        // Another replica ran b's first occurrence meanwhile: this one runs b's second and third.
        h.Store.BeforeClaim = () => Assert.True(h.Store.Inner.TryAdvanceAsync("b", T0, T0.AddSeconds(1), CancellationToken.None).AsTask().GetAwaiter().GetResult());

        Assert.Equal(T0.AddSeconds(4), h.Scheduler.RunDue());

        Assert.Equal(5, h.Accepted);
        Assert.Equal([T0.AddSeconds(3), T0.AddSeconds(3)], [h.Get("a")!.LastRun!.Occurrence, h.Get("b")!.LastRun!.Occurrence]);
        Assert.Equal(2, h.Store.Claims.Count(c => c.Name == "b" && c.Pending is not null && c.Expected > T0));
    }

    [Fact]
    public void AClaimLostToADeleteIsDroppedAndTheRestOfTheChunkRuns()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("a"));
        h.Put(ScheduleHarness.Definition("b"));
        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Store.BeforeClaim = () => Assert.True(h.Store.Inner.DeleteAsync("b", CancellationToken.None).AsTask().GetAwaiter().GetResult());

        Assert.Equal(T0.AddSeconds(4), h.Scheduler.RunDue());

        Assert.Equal(3, h.Accepted);
        Assert.Equal(T0.AddSeconds(3), h.Get("a")!.LastRun!.Occurrence);
    }

    [Fact]
    public void AClaimLostWhileTheScheduleWasReplacedWithTheSameTimingCarriesOn()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("a"));
        h.Put(ScheduleHarness.Definition("b"));
        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Store.BeforeClaim = () =>
        {
            h.Put(ScheduleHarness.Definition("b") with { Priority = 8 }); // a new definition object, same cron and zone
            Assert.True(h.Store.Inner.TryAdvanceAsync("b", T0, T0.AddSeconds(1), CancellationToken.None).AsTask().GetAwaiter().GetResult());
        };

        h.Scheduler.RunDue();

        Assert.Equal(5, h.Accepted);
        Assert.Equal(T0.AddSeconds(3), h.Get("b")!.LastRun!.Occurrence);
    }

    [Fact]
    public void OnlyAMissedOccurrenceIsLoggedAsMissed()
    {
        using var h = new ScheduleHarness(grace: TimeSpan.FromMinutes(1));
        h.Put(ScheduleHarness.Definition("late", "0 * * * *"));
        h.Time.Advance(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(5));
        h.Put(ScheduleHarness.Definition("onTime", "*/10 * * * * *"));
        h.Time.Advance(TimeSpan.FromSeconds(10));

        h.Scheduler.RunDue();

        var missed = Assert.Single(h.Log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("missed", StringComparison.Ordinal));
        Assert.StartsWith("Schedule late missed its occurrences from 2026-01-01T01:00:00", missed.Message, StringComparison.Ordinal);
        Assert.Equal(2, h.Accepted);
    }

    [Fact]
    public void ABatchOfReplayedOccurrencesIsRecordedAsTheFirstMessages()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("a"));
        h.Put(ScheduleHarness.Definition("b"));
        // A scheduler that died after its enqueue and before its record (its claims not kept) left these.
        var firstA = h.EnqueueWithKey("a", T0.AddSeconds(1));
        var firstB = h.EnqueueWithKey("b", T0.AddSeconds(1));
        h.Time.Advance(TimeSpan.FromSeconds(1));

        h.Scheduler.RunDue();

        Assert.Equal((firstA.Id, firstB.Id), (h.Get("a")!.LastRun!.MessageId, h.Get("b")!.LastRun!.MessageId));
        Assert.Equal(2, h.Accepted);
    }

    [Fact]
    public void SchedulesDueTogetherGoInOneBatchAndALoneOneAsOneMessage()
    {
        // No idempotency keys: a message enqueued twice would be stored twice.
        using var h = new ScheduleHarness(StoreFeatures.None);
        h.Put(ScheduleHarness.Definition("a"));
        h.Put(ScheduleHarness.Definition("b"));
        h.Time.Advance(TimeSpan.FromSeconds(1));

        h.Scheduler.RunDue();

        Assert.Equal((2L, 0, 1), (h.Accepted, h.Storage.Singles, h.Storage.Batches));

        h.Store.Delete("b");
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Scheduler.RunDue();

        Assert.Equal((3L, 1, 1), (h.Accepted, h.Storage.Singles, h.Storage.Batches));
    }

    [Fact]
    public void APassThatFiresNothingRecordsNothing()
    {
        using var h = new ScheduleHarness(grace: TimeSpan.FromSeconds(1));
        h.Put(ScheduleHarness.Definition("s", "* * * * *", misfire: MisfirePolicy.Skip));
        h.Time.Advance(TimeSpan.FromMinutes(3));

        h.Scheduler.RunDue();

        Assert.Equal(h.Time.GetUtcNow(), h.Get("s")!.Cursor); // the misses were claimed, and skipped
        Assert.Equal((0L, 0), (h.Accepted, h.Store.RecordCalls));
    }
}
