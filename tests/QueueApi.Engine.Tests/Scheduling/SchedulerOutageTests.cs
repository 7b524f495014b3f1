using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Scheduling;

/// <summary>A shared schedule store that cannot be reached (a database outage): the scheduler rides it out.</summary>
public sealed class SchedulerOutageTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AStoreOutageEndsThePassWithoutKillingTheThreadAndTheNextPassRunsWhatIsDue()
    {
        var time = new FakeTimeProvider(T0);
        var store = new UnreachableStore();
        using var f = new SchedulerFixture(time, store);
        f.Put(SchedulerFixture.Definition("* * * * *"));
        f.Scheduler.Start();
        TestEngine.WaitFor(() => f.Scheduler.Passes > 0, "the first pass, which arms the timer for 00:01");

        store.Down = true;
        time.Advance(TimeSpan.FromMinutes(1));
        TestEngine.WaitFor(() => store.Refused > 0 && f.Scheduler.Passes > 1, "a pass that found the store down");
        Assert.True(f.Scheduler.Thread.IsAlive);
        Assert.Equal(0, f.Accepted);

        store.Down = false;
        time.Advance(Scheduler.RetryDelay);
        // The run is recorded just after its message is enqueued: wait for the record, not only the message.
        TestEngine.WaitFor(() => f.Accepted == 1 && f.Get().LastRun is not null, "the occurrence, once the store is back, enqueued and recorded");
        Assert.Equal(1, f.Accepted); // 5 s late: within the grace, so on time
        Assert.Equal(T0.AddMinutes(1), f.Get().LastRun!.Occurrence);
    }

    [Fact]
    public void AStoreSharedWithOtherReplicasIsReadAgainWithinItsRefreshIntervalThoughNothingIsDue()
    {
        var time = new FakeTimeProvider(T0);
        using var f = new SchedulerFixture(time, new UnreachableStore { Refresh = TimeSpan.FromSeconds(2) });
        f.Put(SchedulerFixture.Definition("0 0 1 1 *"));

        Assert.Equal(T0.AddSeconds(2), f.Scheduler.RunDue());
    }

    /// <summary>A memory store that throws as an unreachable database does, while <see cref="Down"/>.</summary>
    private sealed class UnreachableStore : IScheduleStore
    {
        private readonly MemoryScheduleStore _inner = new();

        public volatile bool Down;

        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public TimeSpan? Refresh { get; init; }

        public TimeSpan? RefreshInterval => Refresh;

        public ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken) => Check() ?? _inner.ListAsync(cancellationToken);

        public ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken) => _inner.GetAsync(name, cancellationToken);

        public ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken) =>
            _inner.PutAsync(definition, now, cancellationToken);

        public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken) => _inner.DeleteAsync(name, cancellationToken);

        public ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken) =>
            _inner.TryAdvanceAsync(name, expected, cursor, cancellationToken);

        public ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken) => _inner.RecordRunAsync(name, run, cancellationToken);

        private ValueTask<IReadOnlyList<StoredSchedule>>? Check()
        {
            if (Down)
            {
                Interlocked.Increment(ref _refused);
                throw new StorageUnavailableException("the database is down (test)");
            }

            return null;
        }
    }
}
