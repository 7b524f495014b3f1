using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>A stop in the middle of a burst ends the pass between chunks: the stop stays bounded, and what was not served stays unclaimed.</summary>
public sealed class ScheduleBurstStopTests
{
    [Fact]
    public void AStopDuringABurstServesNoFurtherChunkAndCancelsThePass()
    {
        // One chunk more than are served at once: it can only start after the stop.
        const int count = (ScheduleRunner.ChunkSize * ScheduleRunner.ConcurrentChunks) + 1;
        using var h = new ScheduleHarness(capacity: count);
        for (var i = 0; i < count; i++)
        {
            h.Put(ScheduleHarness.Definition($"s{i:D5}"));
        }

        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Store.BeforeClaim = () => h.Scheduler.Stop(TimeSpan.Zero); // the thread was never started: this only cancels

        Assert.ThrowsAny<OperationCanceledException>(() => h.Scheduler.RunDue());

        Assert.True(h.Accepted < count, $"{h.Accepted} of {count} enqueued");
        Assert.Contains(Enumerable.Range(0, count), i => h.Get($"s{i:D5}")!.Cursor == ScheduleHarness.T0);
    }
}
