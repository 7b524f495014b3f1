using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// Runs another scheduler claimed and never recorded (it died between its claim and its record): the pass finishes
/// each alone, by recording the message that was stored or enqueueing it now, and one that fails cannot stop the rest.
/// </summary>
public sealed class SchedulePendingRunTests
{
    private static readonly DateTimeOffset T0 = ScheduleHarness.T0;
    private static readonly DateTimeOffset Occurrence = T0.AddMinutes(-1);

    // Never due during a test: the pass's only work is the pending run.
    private const string Yearly = "0 0 1 1 *";

    [Fact]
    public async Task APendingRunWhoseMessageWasStoredIsOnlyRecorded()
    {
        // Without idempotency keys: enqueueing it again would store a second message.
        using var h = new ScheduleHarness(StoreFeatures.None);
        h.Put(ScheduleHarness.Definition("s", Yearly));
        var stored = h.Queue.NewMessage(ScheduleHarness.Payload);
        Assert.Equal(EnqueueStatus.Accepted, await h.Queue.EnqueueAsync(stored, TestContext.Current.CancellationToken));
        h.Store.AddPending(new PendingRun("s", Occurrence, stored.Id));

        h.Scheduler.RunDue();

        Assert.Equal(new ScheduleRun(Occurrence, T0, stored.Id), h.Get("s")!.LastRun);
        Assert.Equal(1, h.Accepted);
    }

    [Fact]
    public void APendingRunWhoseMessageWasNotStoredIsEnqueuedNow()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", Yearly));
        h.Store.AddPending(new PendingRun("s", Occurrence, "never-stored"));

        h.Scheduler.RunDue();

        var run = h.Get("s")!.LastRun!;
        Assert.Equal(1, h.Accepted);
        Assert.Equal((Occurrence, T0, (string?)null), (run.Occurrence, run.At, run.Error));
        Assert.NotEqual("never-stored", run.MessageId);
        Assert.True(h.Queue.TryGetMessage(run.MessageId!, out _));
    }

    [Fact]
    public void APendingRunEnqueuedAgainUnderItsKeyIsRecordedAsTheFirstMessage()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", Yearly));
        // The message went in under the occurrence's key, but with an id the claim never noted.
        var first = h.EnqueueWithKey("s", Occurrence);
        h.Store.AddPending(new PendingRun("s", Occurrence, "another-id"));

        h.Scheduler.RunDue();

        Assert.Equal(new ScheduleRun(Occurrence, T0, first.Id), h.Get("s")!.LastRun);
        Assert.Equal(1, h.Accepted);
    }

    [Fact]
    public void APendingRunOfAScheduleWhoseQueueIsGoneIsRecordedAsAnError()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", Yearly, queue: "removed"));
        h.Store.AddPending(new PendingRun("s", Occurrence, "id"));

        // Nothing else is due (the schedule's queue is gone): no retry either.
        Assert.Null(h.Scheduler.RunDue());

        Assert.Equal(new ScheduleRun(Occurrence, T0, null, "Queue 'removed' is not configured."), h.Get("s")!.LastRun);
    }

    [Fact]
    public void APendingRunIsLeftPendingWhileTheQueueStopsAccepting()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", Yearly));
        h.Store.AddPending(new PendingRun("s", Occurrence, "id"));
        h.Storage.Closed = true;

        h.Scheduler.RunDue();

        Assert.Null(h.Get("s")!.LastRun);
        Assert.Equal(0, h.Storage.Singles + h.Storage.Batches);
    }

    [Fact]
    public void APendingRunTheStoreCannotTakeNowIsNotRecordedAndRetriedShortly()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", Yearly));
        h.Store.AddPending(new PendingRun("s", Occurrence, "id"));
        h.Storage.Failing = true;

        Assert.Equal(T0 + Scheduler.RetryDelay, h.Scheduler.RunDue());

        Assert.Null(h.Get("s")!.LastRun);
        var failure = h.Log.Entries.Single(e => e.Error is not null).Error;
        Assert.Equal("Schedule 's': the store could not take its message now.", Assert.IsType<StorageUnavailableException>(failure).Message);
    }

    [Fact]
    public void OnePendingRunThatFailsDoesNotStopTheOthersAndThePassRetriesShortly()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("bad", Yearly));
        h.Put(ScheduleHarness.Definition("good", Yearly));
        h.Store.FailRecordOf = "bad";
        h.Store.AddPending(new PendingRun("bad", Occurrence, "id1"));
        h.Store.AddPending(new PendingRun("good", Occurrence, "id2"));

        Assert.Equal(T0 + Scheduler.RetryDelay, h.Scheduler.RunDue());

        Assert.NotNull(h.Get("good")!.LastRun);
        Assert.Contains(h.Log.Entries, e => e.Error is InvalidOperationException && e.Message.Contains("bad", StringComparison.Ordinal));
    }
}
