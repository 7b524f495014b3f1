using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Scheduling;

/// <summary>The scheduler on a fake clock: occurrences across daylight-saving changes, misfires after a restart, replicas, the thread.</summary>
public sealed class SchedulerTests
{
    private static DateTimeOffset Utc(int y, int mo, int d, int h, int mi = 0) => new(y, mo, d, h, mi, 0, TimeSpan.Zero);

    [Fact]
    public void TheTestMachineHasTheBerlinTimeZone() =>
        Assert.True(File.Exists("/usr/share/zoneinfo/Europe/Berlin") || OperatingSystem.IsWindows(), "tzdata is installed");

    [Fact]
    public void InBerlinASkippedHourRunsOnceAtTheEndOfTheGap()
    {
        // 2026-03-29: clocks go from 02:00 CET straight to 03:00 CEST, so 02:30 never happens that day.
        using var f = new SchedulerFixture(new FakeTimeProvider(Utc(2026, 3, 27, 12)));
        f.Put(SchedulerFixture.Definition("30 2 * * *", "Europe/Berlin"));

        var runs = f.RunUntil(Utc(2026, 3, 31, 0));

        Assert.Equal([Utc(2026, 3, 28, 1, 30), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 30, 0, 30)], runs);
        Assert.Equal(3, f.Accepted);
    }

    [Fact]
    public void InBerlinARepeatedHourRunsOnce()
    {
        // 2026-10-25: 02:00-03:00 happens twice (CEST, then CET); 02:30 runs at its first instance only.
        using var f = new SchedulerFixture(new FakeTimeProvider(Utc(2026, 10, 23, 12)));
        f.Put(SchedulerFixture.Definition("30 2 * * *", "Europe/Berlin"));

        var runs = f.RunUntil(Utc(2026, 10, 27, 0));

        Assert.Equal([Utc(2026, 10, 24, 0, 30), Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 26, 1, 30)], runs);
        Assert.Equal(3, f.Accepted);
    }

    [Fact]
    public void SixFieldsMeanSecondsFirst()
    {
        using var f = new SchedulerFixture(new FakeTimeProvider(Utc(2026, 1, 1, 0)));
        f.Put(SchedulerFixture.Definition("*/20 * * * * *"));

        var runs = f.RunUntil(Utc(2026, 1, 1, 0, 1));

        Assert.Equal(3, runs.Count);
        Assert.Equal(Utc(2026, 1, 1, 0) + TimeSpan.FromSeconds(20), runs[0]);
    }

    [Theory]
    [InlineData(MisfirePolicy.RunOnce, 1)]
    [InlineData(MisfirePolicy.Skip, 0)]
    public void AfterARestartMissedOccurrencesFollowTheMisfirePolicy(MisfirePolicy policy, int catchUps)
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 0));
        var store = new MemoryScheduleStore();
        using (var before = new SchedulerFixture(time, store))
        {
            before.Put(SchedulerFixture.Definition("0 * * * *", misfire: policy)); // hourly
            before.RunUntil(Utc(2026, 1, 1, 2));
            Assert.Equal(2, before.Accepted);
        }

        // Down for five hours; a new scheduler starts over the store the old one left.
        time.Advance(TimeSpan.FromHours(5) + TimeSpan.FromMinutes(10));
        using var after = new SchedulerFixture(time, store);
        var next = after.Scheduler.RunDue();

        Assert.Equal(catchUps, after.Accepted);
        Assert.Equal(Utc(2026, 1, 1, 8), next);
        if (catchUps == 1)
        {
            Assert.Equal(Utc(2026, 1, 1, 3), after.Get().LastRun!.Occurrence); // for the first it missed
        }

        after.RunUntil(Utc(2026, 1, 1, 8));
        Assert.Equal(catchUps + 1, after.Accepted); // then on time again
    }

    [Fact]
    public void AnOccurrenceSeenWithinTheGraceIsOnTimeNotAMisfire()
    {
        using var f = new SchedulerFixture(new FakeTimeProvider(Utc(2026, 1, 1, 0)), grace: TimeSpan.FromMinutes(1));
        f.Put(SchedulerFixture.Definition("*/10 * * * * *", misfire: MisfirePolicy.Skip));
        f.Time.Advance(TimeSpan.FromSeconds(35)); // three occurrences, all within a minute

        f.Scheduler.RunDue();

        Assert.Equal(3, f.Accepted);
    }

    [Fact]
    public async Task ATriggerEnqueuesOneNowAndLeavesTheCronAlone()
    {
        using var f = new SchedulerFixture(new FakeTimeProvider(Utc(2026, 1, 1, 0)));
        var stored = f.Put(SchedulerFixture.Definition("0 0 1 1 *"));

        var run = await f.Scheduler.TriggerAsync(stored.Definition, TestContext.Current.CancellationToken);

        Assert.Equal(1, f.Accepted);
        Assert.Null(run.Occurrence);
        Assert.True(f.Engine.TryGetQueue("q", out var q) && q!.TryGetMessage(run.MessageId!, out _));
        Assert.Equal(stored.Cursor, f.Get().Cursor);
        Assert.Equal(run, f.Get().LastRun);
    }

    [Fact]
    public void ADisabledScheduleEnqueuesNothing()
    {
        using var f = new SchedulerFixture(new FakeTimeProvider(Utc(2026, 1, 1, 0)));
        f.Put(SchedulerFixture.Definition("* * * * *") with { Enabled = false });
        f.Time.Advance(TimeSpan.FromMinutes(3));

        Assert.Null(f.Scheduler.RunDue());
        Assert.Equal(0, f.Accepted);
    }

    [Fact]
    public void TheThreadWakesAtTheNextOccurrenceOnTheEnginesClockAndAtOnceForAChange()
    {
        using var f = new SchedulerFixture(new FakeTimeProvider(Utc(2026, 1, 1, 0)));
        f.Scheduler.Start();
        Assert.Equal(Scheduler.ThreadName, f.Scheduler.Thread.Name);
        Assert.True(f.Scheduler.Thread.IsBackground);

        // A change wakes the sleeping thread, which then arms its timer for 00:00:10.
        var passes = f.Scheduler.Passes;
        f.Put(SchedulerFixture.Definition("*/10 * * * * *"));
        f.Scheduler.Wake();
        TestEngine.WaitFor(() => f.Scheduler.Passes > passes, "a pass after the change");
        Assert.Equal(0, f.Accepted);

        // The pass after the change armed the timer (or, if the advance came first, sees 00:00:10 already due).
        f.Time.Advance(TimeSpan.FromSeconds(10));
        // The run is recorded just after its message is enqueued: wait for the record, not only the message.
        TestEngine.WaitFor(() => f.Accepted == 1 && f.Get().LastRun is not null, "the first occurrence to be enqueued and recorded when the timer rang");
        Assert.Equal(Utc(2026, 1, 1, 0) + TimeSpan.FromSeconds(10), f.Get().LastRun!.Occurrence);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        f.Scheduler.Stop(TestEngine.Timeout);
        Assert.False(f.Scheduler.Thread.IsAlive);
        Assert.True(stopping.Elapsed < TestEngine.Timeout, "stop woke the thread");
    }
}
