using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Tests.Scheduling;
using QueueApi.Storage.Postgres.Schedules;
using QueueApi.Storage.Postgres.Tests.Support;

namespace QueueApi.Storage.Postgres.Tests;

/// <summary>
/// What only a shared schedule store must do: a run claimed by a replica that died before it was recorded is
/// finished by another, exactly once, whether or not its message had been stored.
/// </summary>
public sealed class PostgresScheduleStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly Replicas _replicas;

    public PostgresScheduleStoreTests(PostgresCluster cluster)
    {
        cluster.RequireServer();
        _replicas = new Replicas(cluster);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ARunClaimedByAReplicaThatDiedBeforeEnqueueingIsEnqueuedOnceByAnother()
    {
        var time = new FakeTimeProvider(T0);
        var dead = _replicas.Open();
        await dead.Store.PutAsync(SchedulerFixture.Definition("* * * * *"), T0, Ct);
        // The dead replica's last act: the claim of 00:01 (its message never enqueued).
        Assert.True(await dead.Store.TryClaimAsync("s", T0, T0.AddMinutes(1), new PendingRun("s", T0.AddMinutes(1), "never-stored"), Ct));
        dead.Storage.Dispose();

        time.AdvanceTo(T0.AddMinutes(1).AddSeconds(5));
        using var live = new SchedulerFixture(time, _replicas.Open().Store);
        live.Scheduler.RunDue();
        live.Scheduler.RunDue();

        Assert.Equal(1, live.Accepted);
        var last = live.Get().LastRun!;
        Assert.Equal(T0.AddMinutes(1), last.Occurrence);
        Assert.NotEqual("never-stored", last.MessageId);
        Assert.True(live.Engine.Queues.Single().TryGetMessage(last.MessageId!, out _));
        Assert.Empty(await live.Store.AdoptPendingRunsAsync(Ct));
    }

    [Fact]
    public async Task ARunWhoseMessageWasStoredBeforeItsReplicaDiedIsRecordedAndNotEnqueuedAgain()
    {
        var time = new FakeTimeProvider(T0.AddMinutes(1).AddSeconds(5));
        using var live = new SchedulerFixture(time, _replicas.Open().Store);
        var dead = _replicas.Open();
        await dead.Store.PutAsync(SchedulerFixture.Definition("* * * * *"), T0, Ct);
        // The dead replica enqueued its message (into the queue every replica shares), then died before recording it.
        var queue = live.Engine.Queues.Single();
        var message = queue.NewMessage("{}"u8.ToArray());
        Assert.True(await dead.Store.TryClaimAsync("s", T0, T0.AddMinutes(1), new PendingRun("s", T0.AddMinutes(1), message.Id), Ct));
        Assert.Equal(EnqueueStatus.Accepted, await queue.EnqueueAsync(message, Ct));
        dead.Storage.Dispose();

        live.Scheduler.RunDue();

        Assert.Equal(1, live.Accepted);
        Assert.Equal(new ScheduleRun(T0.AddMinutes(1), time.GetUtcNow(), message.Id), live.Get().LastRun);
    }

    [Fact]
    public async Task ThePendingRunsOfALiveReplicaAreLeftToIt()
    {
        var a = _replicas.Open();
        var b = _replicas.Open();
        await a.Store.PutAsync(SchedulerFixture.Definition("* * * * *"), T0, Ct);
        Assert.True(await a.Store.TryClaimAsync("s", T0, T0.AddMinutes(1), new PendingRun("s", T0.AddMinutes(1), "m1"), Ct));

        Assert.Empty(await b.Store.AdoptPendingRunsAsync(Ct));
        Assert.Equal(["m1"], (await a.Store.AdoptPendingRunsAsync(Ct)).Select(r => r.MessageId)); // its own, from a failed pass
    }

    [Fact]
    public async Task ReplicasAdoptingTogetherTakeEachRunOfADeadOneExactlyOnce()
    {
        const int schedules = 40;
        var dead = _replicas.Open();
        for (var i = 0; i < schedules; i++)
        {
            await dead.Store.PutAsync(SchedulerFixture.Definition("* * * * *", name: $"s{i}"), T0, Ct);
            Assert.True(await dead.Store.TryClaimAsync($"s{i}", T0, T0.AddMinutes(1), new PendingRun($"s{i}", T0.AddMinutes(1), $"m{i}"), Ct));
        }

        dead.Storage.Dispose();
        var adopters = Enumerable.Range(0, 4).Select(_ => _replicas.Open().Store).ToList();
        using var start = new Barrier(adopters.Count);
        var adopted = await Task.WhenAll(adopters.Select(store => Task.Run(async () =>
        {
            start.SignalAndWait(Ct);
            return await store.AdoptPendingRunsAsync(Ct);
        }, Ct)));

        Assert.Equal(Enumerable.Range(0, schedules).Select(i => $"m{i}").Order(), adopted.SelectMany(a => a).Select(r => r.MessageId).Order());
    }

    [Fact]
    public async Task AnOccurrenceAlreadyRunIsNotClaimedAgainEvenFromAnOlderCursor()
    {
        var store = _replicas.Open().Store;
        await store.PutAsync(SchedulerFixture.Definition("* * * * *"), T0, Ct);
        Assert.True(await store.TryClaimAsync("s", T0, T0.AddMinutes(1), new PendingRun("s", T0.AddMinutes(1), "m1"), Ct));
        await store.RecordRunAsync("s", new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(1), "m1"), Ct);

        // The unique key per schedule and occurrence holds even if a cursor were moved back by hand.
        Assert.False(await store.TryClaimAsync("s", T0.AddMinutes(1), T0.AddMinutes(2), new PendingRun("s", T0.AddMinutes(1), "m2"), Ct));
        Assert.Equal("m1", (await store.GetAsync("s", Ct))!.LastRun!.MessageId);
    }

    /// <summary>The batched claim and record do what the single ones do: note pending runs, honour the unique key, close runs.</summary>
    [Fact]
    public async Task ManyClaimsNotePendingRunsAndManyRecordsCloseThem()
    {
        var a = _replicas.Open();
        var b = _replicas.Open();
        foreach (var name in new[] { "x", "y", "z" })
        {
            await a.Store.PutAsync(SchedulerFixture.Definition("* * * * *", name: name), T0, Ct);
        }

        // z's 00:01 ran before (its cursor then moved back by hand): the unique run key refuses it again.
        Assert.True(await a.Store.TryClaimAsync("z", T0, T0.AddMinutes(1), new PendingRun("z", T0.AddMinutes(1), "z0"), Ct));
        await a.Store.RecordRunAsync("z", new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(1), "z0"), Ct);
        Assert.True(await a.Store.TryAdvanceAsync("z", T0.AddMinutes(1), T0, Ct));

        var won = await a.Store.TryClaimManyAsync(
            [new("x", T0, T0.AddMinutes(1), new PendingRun("x", T0.AddMinutes(1), "x1")), new("y", T0, T0.AddMinutes(1), null),
             new("z", T0, T0.AddMinutes(1), new PendingRun("z", T0.AddMinutes(1), "z1"))], Ct);

        Assert.Equal([true, true, false], won);
        Assert.Equal(["x1"], (await a.Store.AdoptPendingRunsAsync(Ct)).Select(r => r.MessageId)); // noted, and this replica's own
        Assert.Empty(await b.Store.AdoptPendingRunsAsync(Ct));

        await a.Store.RecordRunsAsync([("x", new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(1), "x1")), ("y", new ScheduleRun(null, T0.AddMinutes(1), "y1"))], Ct);

        Assert.Empty(await a.Store.AdoptPendingRunsAsync(Ct));
        Assert.Equal(["x1", "y1", "z0"], (await a.Store.ListAsync(Ct)).Select(s => s.LastRun!.MessageId));
    }

    [Fact]
    public async Task AnOlderRunFinishedLateDoesNotHideTheLastOne()
    {
        var store = _replicas.Open().Store;
        await store.PutAsync(SchedulerFixture.Definition("* * * * *"), T0, Ct);
        await store.RecordRunAsync("s", new ScheduleRun(T0.AddMinutes(2), T0.AddMinutes(2), "new"), Ct);
        await store.RecordRunAsync("s", new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(3), "adopted-late"), Ct);

        Assert.Equal("new", (await store.GetAsync("s", Ct))!.LastRun!.MessageId);
    }

    [Fact]
    public void ASchedulerOverTheSharedStoreLooksAgainWithinThePollIntervalThoughNothingIsDue()
    {
        var time = new FakeTimeProvider(T0);
        using var replica = new SchedulerFixture(time, _replicas.Open().Store);
        replica.Put(SchedulerFixture.Definition("0 0 1 1 *"));

        Assert.Equal(T0 + Replicas.PollInterval, replica.Scheduler.RunDue());
    }

    public void Dispose() => _replicas.Dispose();

    /// <summary>Replicas over one schema of their own: each a storage (a node row) and a schedule store on it.</summary>
    internal sealed class Replicas(PostgresCluster cluster) : IDisposable
    {
        public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

        private readonly string _schema = PostgresCluster.NewSchema();
        private readonly List<PostgresStorage> _storages = [];

        public (PostgresStorage Storage, PostgresScheduleStore Store) Open()
        {
            var storage = new PostgresStorage(
                new PostgresStorageOptions { ConnectionString = cluster.ConnectionString, Schema = _schema, PollInterval = PollInterval },
                TimeProvider.System,
                NullLogger<PostgresStorage>.Instance);
            _storages.Add(storage);
            return (storage, new PostgresScheduleStore(storage));
        }

        public void Dispose()
        {
            foreach (var s in _storages)
            {
                s.Dispose();
            }
        }
    }
}
