using Microsoft.Extensions.Logging.Abstractions;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// The scheduler thread sleeps between passes (it never spins), goes again at once when a pass ends already late,
/// reports a bug in its loop to the engine, and ends on Dispose; a store outage is retried after the retry delay.
/// </summary>
public sealed class SchedulerThreadTests
{
    private static readonly DateTimeOffset T0 = ScheduleHarness.T0;

    private static bool Asleep(Scheduler s) => (s.Thread.ThreadState & ThreadState.WaitSleepJoin) != 0;

    [Fact]
    public void BetweenPassesTheThreadSleepsWhetherSomethingIsDueOrNot()
    {
        using var h = new ScheduleHarness();
        h.Scheduler.Start();

        // Nothing scheduled: it sleeps until woken.
        TestEngine.WaitFor(() => h.Scheduler.Passes >= 1 && Asleep(h.Scheduler), "the thread asleep with nothing scheduled");
        Assert.Equal(1, h.Scheduler.Passes);

        // Something due in a year: it sleeps until then (the fake clock stands still).
        h.Put(ScheduleHarness.Definition("s", "0 0 1 1 *"));
        h.Scheduler.Wake();
        TestEngine.WaitFor(() => h.Scheduler.Passes >= 2 && Asleep(h.Scheduler), "the thread asleep until the next occurrence");
        Assert.Equal(2, h.Scheduler.Passes);
    }

    [Fact]
    public void AnOccurrenceMonthsAwayNeitherKillsTheThreadNorIsMissed()
    {
        // A timer cannot be armed for more than ~49.7 days; this one is a year away (the bug: the thread died).
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", "0 0 1 1 *"));
        h.Scheduler.Start();
        TestEngine.WaitFor(() => h.Scheduler.Passes >= 1 && (Asleep(h.Scheduler) || !h.Scheduler.Thread.IsAlive), "the first pass");
        Assert.Null(h.Engine.FirstFailure);
        Assert.True(h.Scheduler.Thread.IsAlive);

        h.Time.Advance(TimeSpan.FromDays(365));

        TestEngine.WaitFor(() => h.Get("s")!.LastRun is not null, "the occurrence a year later");
        Assert.Equal(T0.AddYears(1), h.Get("s")!.LastRun!.Occurrence);
    }

    [Theory]
    [InlineData(60)] // ends exactly at the occurrence
    [InlineData(61)] // ends after it
    public void APassThatEndsAtOrAfterTheNextOccurrenceIsFollowedAtOnceByAnother(int seconds)
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("s", "* * * * *"));
        // The first pass is slow: by its end the clock has passed 00:01, the occurrence it computed.
        var slow = 1;
        h.Store.AfterList = () =>
        {
            if (Interlocked.Exchange(ref slow, 0) == 1)
            {
                h.Time.Advance(TimeSpan.FromSeconds(seconds));
            }
        };
        h.Scheduler.Start();

        TestEngine.WaitFor(() => h.Get("s")!.LastRun is not null, "the late occurrence run by the next pass");
        Assert.Equal(T0.AddMinutes(1), h.Get("s")!.LastRun!.Occurrence);
        Assert.True(h.Scheduler.Thread.IsAlive);
    }

    [Fact]
    public void ABugInThePassKillsTheThreadAndIsReportedToTheEngine()
    {
        using var h = new ScheduleHarness();
        h.Store.ListFault = new InvalidOperationException("a bug (test)");

        h.Scheduler.Start();

        TestEngine.WaitFor(() => h.Engine.FirstFailure is not null, "the scheduler's death reported to the engine");
        Assert.Contains("a bug (test)", h.Engine.FirstFailure!.ToString(), StringComparison.Ordinal);
        TestEngine.WaitFor(() => !h.Scheduler.Thread.IsAlive, "the thread to end");
    }

    [Fact]
    public void DisposeEndsARunningThread()
    {
        using var h = new ScheduleHarness();
        var scheduler = new Scheduler(h.Store, h.Engine, h.Time, new SchedulerOptions(), NullLogger.Instance);
        scheduler.Start();
        TestEngine.WaitFor(() => scheduler.Passes >= 1 && Asleep(scheduler), "the thread asleep");

        scheduler.Dispose();

        TestEngine.WaitFor(() => !scheduler.Thread.IsAlive, "the thread to end on Dispose");
        Assert.Null(h.Engine.FirstFailure);
        Assert.Throws<ObjectDisposedException>(() => scheduler.RunDue()); // its stop token went with it
    }

    [Fact]
    public void AStoreThatCannotBeReadIsLookedAtAgainAfterTheRetryDelay()
    {
        using var h = new ScheduleHarness();
        h.Store.ListFault = new StorageUnavailableException("down (test)");

        Assert.Equal(T0 + Scheduler.RetryDelay, h.Scheduler.RunDue());
    }

    [Fact]
    public void AStoreFailingAfterAnAwaitIsRiddenOutLikeOneFailingAtOnce()
    {
        using var h = new ScheduleHarness();
        using var scheduler = new Scheduler(new SlowFailingStore(), h.Engine, h.Time, new SchedulerOptions(), NullLogger.Instance);

        Assert.Equal(T0 + Scheduler.RetryDelay, scheduler.RunDue());
    }

    [Fact]
    public async Task ArgumentsAreChecked()
    {
        using var h = new ScheduleHarness();
        Assert.Throws<ArgumentNullException>(() => new Scheduler(h.Store, h.Engine, h.Time, null!, NullLogger.Instance));
        Assert.Throws<ArgumentNullException>(() => h.Scheduler.CronOf(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await h.Scheduler.TriggerAsync(null!, CancellationToken.None));
    }

    [Theory]
    [InlineData("bad cron", "UTC", "cron")]
    [InlineData("bad cron", "Nowhere/Zone", "cron")]
    [InlineData("* * * * *", "Nowhere/Zone", "zone")]
    public void AScheduleStoredInvalidSaysWhichPartIsWrong(string cron, string zone, string part)
    {
        using var h = new ScheduleHarness();
        var definition = ScheduleHarness.Definition("s", cron) with { TimeZone = zone };
        CronSchedule.TryParse(cron, zone, out _, out var cronError, out var zoneError);

        var error = Assert.Throws<InvalidOperationException>(() => h.Scheduler.CronOf(definition));

        Assert.Equal($"Schedule 's' was stored invalid: {(part == "cron" ? cronError : zoneError)}", error.Message);
    }

    [Fact]
    public void TheParsedCronIsKeptWhileTheTimingIsUnchanged()
    {
        using var h = new ScheduleHarness();
        var definition = ScheduleHarness.Definition("s");

        var cron = h.Scheduler.CronOf(definition);

        Assert.Same(cron, h.Scheduler.CronOf(definition with { Priority = 9 }));
        Assert.NotSame(cron, h.Scheduler.CronOf(definition with { Cron = "*/2 * * * * *" }));
    }

    [Fact]
    public void EarliestPrefersTheEarlierAndOnATieTheFirst()
    {
        var a = T0.AddSeconds(10);
        var b = T0.AddSeconds(5);
        var sameInstantElsewhere = a.ToOffset(TimeSpan.FromHours(2));

        Assert.Equal(b, Scheduler.Earliest(null, b));
        Assert.Equal(a, Scheduler.Earliest(a, null));
        Assert.Null(Scheduler.Earliest(null, null));
        Assert.Equal(b, Scheduler.Earliest(a, b));
        Assert.Equal(b, Scheduler.Earliest(b, a));
        Assert.Equal(TimeSpan.Zero, Scheduler.Earliest(a, sameInstantElsewhere)!.Value.Offset);
    }

    /// <summary>A store behind a round trip: its list completes later, and fails as an unreachable database does.</summary>
    private sealed class SlowFailingStore : IScheduleStore
    {
        public async ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new StorageUnavailableException("down (test)");
        }

        public ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken) => new((StoredSchedule?)null);

        public ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken) => new(false);

        public ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken) => new(false);

        public ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
