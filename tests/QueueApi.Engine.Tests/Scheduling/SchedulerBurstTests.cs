using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Scheduling;

/// <summary>
/// Many schedules due at the same moment (issue 16's burst): they are claimed, enqueued and recorded in chunks, a
/// few store calls per thousand schedules, and a queue that cannot take them all takes what fits.
/// </summary>
public sealed class SchedulerBurstTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ABurstIsClaimedAndRecordedInChunksAndEachScheduleEnqueuesOnce()
    {
        const int count = ScheduleRunner.ChunkSize * 2 + 500;
        var store = new CountingStore();
        using var f = new SchedulerFixture(new FakeTimeProvider(T0), store, queue: q => q.Capacity = count);
        f.Engine.Queues.Single().Pause();
        for (var i = 0; i < count; i++)
        {
            f.Put(SchedulerFixture.Definition("* * * * * *", name: $"s{i:D5}"));
        }

        f.Time.Advance(TimeSpan.FromSeconds(1));
        var next = f.Scheduler.RunDue();

        Assert.Equal(count, f.Accepted);
        Assert.Equal(T0.AddSeconds(2), next);
        var runs = (await store.ListAsync(TestContext.Current.CancellationToken)).Select(s => s.LastRun!).ToList();
        Assert.All(runs, r => Assert.Equal(T0.AddSeconds(1), r.Occurrence));
        Assert.Equal(count, runs.Select(r => r.MessageId).Distinct().Count());
        Assert.All(runs, r => Assert.True(f.Engine.Queues.Single().TryGetMessage(r.MessageId!, out _)));
        // Three chunks: one claim call and one record call each, never one per schedule.
        Assert.Equal((3, 0, 3, 0), (store.ClaimCalls, store.SingleClaims, store.RecordCalls, store.SingleRecords));
        Assert.Equal(ScheduleRunner.ChunkSize, store.LargestClaim);
    }

    [Fact]
    public async Task AQueueThatCannotTakeTheWholeBurstTakesWhatFitsAndTheRestAreRecordedRefused()
    {
        using var f = new SchedulerFixture(new FakeTimeProvider(T0), queue: q => q.Capacity = 5);
        f.Engine.Queues.Single().Pause(); // nothing is taken meanwhile: exactly the capacity fits
        for (var i = 0; i < 8; i++)
        {
            f.Put(SchedulerFixture.Definition("* * * * * *", name: $"s{i}"));
        }

        f.Time.Advance(TimeSpan.FromSeconds(1));
        f.Scheduler.RunDue();

        var runs = (await f.Store.ListAsync(TestContext.Current.CancellationToken)).Select(s => s.LastRun!).ToList();
        Assert.Equal(5, f.Accepted);
        Assert.Equal(5, runs.Count(r => r.MessageId is not null && r.Error is null));
        Assert.Equal(3, runs.Count(r => r.MessageId is null && r.Error == "Queue 'q' refused the message: Full."));
    }

    [Fact]
    public void AClaimLostToAnotherSchedulerIsNotEnqueuedAndTheOthersOfTheChunkAre()
    {
        var store = new CountingStore();
        using var f = new SchedulerFixture(new FakeTimeProvider(T0), store);
        f.Put(SchedulerFixture.Definition("* * * * * *", name: "a"));
        f.Put(SchedulerFixture.Definition("* * * * * *", name: "b"));
        f.Time.Advance(TimeSpan.FromSeconds(1));
        // Another replica took b's occurrence between this one's read and its claim.
        store.BeforeClaim = () => Assert.True(store.TryAdvanceAsync("b", T0, T0.AddSeconds(1), CancellationToken.None).AsTask().GetAwaiter().GetResult());

        f.Scheduler.RunDue();

        Assert.Equal(1, f.Accepted);
        Assert.NotNull(f.Get("a").LastRun);
        Assert.Null(f.Get("b").LastRun);
        Assert.Equal(T0.AddSeconds(1), f.Get("b").Cursor);
    }

    /// <summary>A memory store that counts how the scheduler calls it.</summary>
    private sealed class CountingStore : IScheduleStore
    {
        private readonly IScheduleStore _inner = new MemoryScheduleStore();

        public int ClaimCalls { get; private set; }

        public int SingleClaims { get; private set; }

        public int RecordCalls { get; private set; }

        public int SingleRecords { get; private set; }

        public int LargestClaim { get; private set; }

        private Action? _beforeClaim;

        public Action? BeforeClaim { get => _beforeClaim; set => _beforeClaim = value; }

        public ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken) => _inner.ListAsync(cancellationToken);

        public ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken) => _inner.GetAsync(name, cancellationToken);

        public ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken) =>
            _inner.PutAsync(definition, now, cancellationToken);

        public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken) => _inner.DeleteAsync(name, cancellationToken);

        public ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken)
        {
            SingleClaims++;
            return _inner.TryAdvanceAsync(name, expected, cursor, cancellationToken);
        }

        public ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(IReadOnlyList<ScheduleClaim> claims, CancellationToken cancellationToken)
        {
            Interlocked.Exchange(ref _beforeClaim, null)?.Invoke();
            lock (_inner)
            {
                ClaimCalls++;
                LargestClaim = Math.Max(LargestClaim, claims.Count);
            }

            return _inner.TryClaimManyAsync(claims, cancellationToken);
        }

        public ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken)
        {
            SingleRecords++;
            return _inner.RecordRunAsync(name, run, cancellationToken);
        }

        public ValueTask RecordRunsAsync(IReadOnlyList<(string Name, ScheduleRun Run)> runs, CancellationToken cancellationToken)
        {
            lock (_inner)
            {
                RecordCalls++;
            }

            return _inner.RecordRunsAsync(runs, cancellationToken);
        }
    }
}
