using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;
using QueueApi.Storage.Postgres.Tests.Support;

namespace QueueApi.Storage.Postgres.Tests;

/// <summary>What only a shared store must do: replicas on one schema claim apart, rescue the dead, ignore the late.</summary>
public sealed class SharedStoreTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly PostgresCluster _cluster;
    private readonly string _schema = PostgresCluster.NewSchema();
    private readonly List<PostgresStorage> _storages = [];

    public SharedStoreTests(PostgresCluster cluster)
    {
        cluster.RequireServer();
        _cluster = cluster;
    }

    private static QueueOptions Queue => new() { Workers = 2, Capacity = 10_000, RetainFinished = 10_000 };

    [Fact]
    public void TheWritersAndTheNodeThreadAreHandedToTheSupervisorToWatch()
    {
        IMessageStorage replica = Replica();

        Assert.Equal(
            ["queueapi postgres intake", "queueapi postgres node", "queueapi postgres outcomes"],
            replica.Threads.Select(t => t.Name).Order());
        Assert.All(replica.Threads, t => Assert.True(t.IsAlive && t.IsBackground));
    }

    [Fact]
    public async Task TwoReplicasClaimingTogetherNeverHandOutTheSameMessage()
    {
        var a = Replica().Open("q", Queue);
        var b = Replica().Open("q", Queue);
        var now = DateTimeOffset.UtcNow;
        var batch = Enumerable.Range(0, 300).Select(_ => new QueueMessage(MessageId.Next(now), "q", "{}"u8.ToArray(), now)).ToList();
        Assert.Equal(EnqueueStatus.Accepted, await a.EnqueueBatchAsync(batch, TestContext.Current.CancellationToken));
        var claimed = new ConcurrentBag<string>();

        // Two workers per replica, all claiming at once until the queue is empty.
        var workers = new[] { (a, 0), (a, 1), (b, 0), (b, 1) }.Select(w => Task.Run(() =>
        {
            var slot = new WorkerSlot(w.Item2, $"q-{w.Item2 + 1}");
            while (w.Item1.TryClaim(slot, out var m, TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken) == TakeResult.Taken)
            {
                w.Item1.Processing(m!, slot, DateTimeOffset.UtcNow);
                w.Item1.AttemptStarted(m!, slot);
                w.Item1.Finish(m!, slot, MessageStatus.Succeeded, null, DateTimeOffset.UtcNow.UtcTicks);
                claimed.Add(m!.Id);
            }
        }, TestContext.Current.CancellationToken)).ToArray();
        await Task.WhenAll(workers).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(300, claimed.Count);
        Assert.Equal(batch.Select(m => m.Id).Order(), claimed.Order());
        a.Counts(); // a's reports written
        var c = b.Counts();
        Assert.Equal((300L, 300L), (c.Accepted, c.Succeeded));
        Assert.True(c.Balanced, c.ToString());
    }

    [Fact]
    public async Task AMessageInFlightWhenItsReplicaDiedMaxCrashesTimesIsDeadLetteredInsteadOfRunAgain()
    {
        var first = Replica();
        var store = first.Open("q", Queue);
        var m = Message();
        Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueAsync(m, TestContext.Current.CancellationToken));

        for (var crash = 1; crash <= 2; crash++)
        {
            var slot = new WorkerSlot(0, "q-1");
            Assert.True(store.TryClaimNow(slot, out var held));
            store.Processing(held!, slot, DateTimeOffset.UtcNow);
            store.AttemptStarted(held!, slot);
            store.Counts(); // the attempt is written, as it is a moment after a claim
            _storages[^1].Dispose(); // the replica ends with the message in flight
            store = Replica().Open("q", Queue); // the next one puts it back, counting the crash
        }

        Assert.False(store.TryClaimNow(new WorkerSlot(0, "q-1"), out _));
        Assert.True(store.TryGet(m.Id, out var dead));
        Assert.Equal(MessageStatus.DeadLettered, dead!.Status);
        Assert.Contains("MaxCrashes", dead.Error, StringComparison.Ordinal);
        var c = store.Counts();
        Assert.Equal((1L, 1L), (c.Accepted, c.DeadLettered));
        Assert.True(c.Balanced, c.ToString());
    }

    [Fact]
    public async Task AReplicaThatLostItsLeaseCannotOverwriteTheRescuersOutcomeOrCountTwice()
    {
        // a renews its heartbeat once, at start: the test makes it look silent without racing its thread.
        var aStorage = Replica(heartbeat: TimeSpan.FromHours(1));
        var a = aStorage.Open("q", Queue);
        var m = Message();
        Assert.Equal(EnqueueStatus.Accepted, await a.EnqueueAsync(m, TestContext.Current.CancellationToken));
        var slot = new WorkerSlot(0, "q-1");
        Assert.True(a.TryClaimNow(slot, out var held));
        a.Processing(held!, slot, DateTimeOffset.UtcNow);
        a.AttemptStarted(held!, slot);
        a.Counts();
        await Sql($"UPDATE {_schema}.nodes SET heartbeat_at = now() - interval '1 hour' WHERE id = {aStorage.NodeId}");

        var b = Replica().Open("q", Queue); // opening rescues what the silent replica held
        Assert.True(b.TryClaimNow(slot, out var again));
        Assert.Equal(m.Id, again!.Id);
        Assert.True(again.Attempts >= 1, "the interrupted attempt is counted");
        b.Processing(again, slot, DateTimeOffset.UtcNow);
        b.AttemptStarted(again, slot);
        b.Finish(again, slot, MessageStatus.Succeeded, null, DateTimeOffset.UtcNow.UtcTicks);

        a.Finish(held!, slot, MessageStatus.DeadLettered, "late and wrong", DateTimeOffset.UtcNow.UtcTicks);
        a.Counts(); // a's late report is written (and matches nothing)

        Assert.True(b.TryGet(m.Id, out var final));
        Assert.Equal((MessageStatus.Succeeded, (string?)null), (final!.Status, final.Error));
        var c = b.Counts();
        Assert.Equal((1L, 1L, 0L), (c.Accepted, c.Succeeded, c.DeadLettered));
        Assert.True(c.Balanced, c.ToString());
    }

    [Fact]
    public void APauseMadeThroughOneReplicaHoldsTheOtherWithinAPoll()
    {
        var a = Replica().Open("q", Queue);
        var b = Replica().Open("q", Queue);

        a.SetPaused(true);

        Assert.True(SpinWait.SpinUntil(() => b.IsPaused, Timeout), "b sees the pause");
        a.SetPaused(false);
        Assert.True(SpinWait.SpinUntil(() => !b.IsPaused, Timeout), "b sees the resume");
    }

    [Fact]
    public async Task AnEnginesWorkersShowPausedWhenAnotherReplicaPausesTheQueueAndRunItOnceResumed()
    {
        var handled = 0;
        using var engine = new QueueEngine(
            Options.Create(new QueueApiOptions { Queues = { ["q"] = Queue } }),
            _ => new CountingHandler(() => Interlocked.Increment(ref handled)),
            TimeProvider.System,
            NullLogger<QueueEngine>.Instance,
            storage: Replica());
        engine.Start();
        var other = Replica().Open("q", Queue);

        other.SetPaused(true);

        Assert.True(SpinWait.SpinUntil(() => engine.Workers.All(w => w.State == WorkerState.Paused), Timeout), "this replica's workers show paused");
        Assert.True(engine.Queues.Single().IsPaused);
        var m = Message();
        Assert.Equal(EnqueueStatus.Accepted, await other.EnqueueAsync(m, TestContext.Current.CancellationToken));
        Assert.Equal(0, Volatile.Read(ref handled));

        other.SetPaused(false);

        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref handled) == 1, Timeout), "the message runs once resumed");
        engine.RequestStop(ShutdownMode.Immediate);
        await engine.Completion.WaitAsync(Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AStorageRefusesASchemaWrittenByANewerVersion()
    {
        Replica().Dispose();
        await Sql($"UPDATE {_schema}.schema_version SET version = 99");

        var refused = Assert.Throws<StorageUnavailableException>(() => Replica());

        Assert.Contains("newer", refused.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var s in _storages)
        {
            s.Dispose();
        }
    }

    private sealed class CountingHandler(Action handled) : IMessageHandler
    {
        public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
        {
            handled();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task AMessagePutBackBelowWhereTheLastClaimEndedIsClaimedAgainWhileNewerMessagesKeepArriving()
    {
        var store = Replica().Open("q", Queue);
        var slot = new WorkerSlot(0, "q-1");
        var (first, second) = (Message(), Message());
        Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueBatchAsync([first, second], TestContext.Current.CancellationToken));
        Assert.True(store.TryClaimNow(slot, out var taken)); // one claim takes both: the floor is now above the first
        Assert.Equal(first.Id, taken!.Id);
        store.Release(taken, slot, "put back");
        store.Counts(); // the release is written: the first is ready again, below the floor

        // Every floored claim finds a newer message; only the claim from the start (each fallback poll) finds the first.
        var seen = new List<string>();
        for (var i = 0; i < 10_000 && !seen.Contains(first.Id); i++)
        {
            Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueAsync(Message(), TestContext.Current.CancellationToken));
            Assert.Equal(TakeResult.Taken, store.TryClaim(slot, out var m, Timeout, TestContext.Current.CancellationToken));
            store.Processing(m!, slot, DateTimeOffset.UtcNow);
            store.AttemptStarted(m!, slot);
            store.Finish(m!, slot, MessageStatus.Succeeded, null, DateTimeOffset.UtcNow.UtcTicks);
            seen.Add(m!.Id);
        }

        Assert.Contains(first.Id, seen);
        Assert.Contains(second.Id, seen);
    }

    private static QueueMessage Message()
    {
        var now = DateTimeOffset.UtcNow;
        return new QueueMessage(MessageId.Next(now), "q", "{}"u8.ToArray(), now);
    }

    private PostgresStorage Replica(TimeSpan? heartbeat = null)
    {
        var storage = new PostgresStorage(
            new PostgresStorageOptions
            {
                ConnectionString = _cluster.ConnectionString,
                Schema = _schema,
                HeartbeatInterval = heartbeat ?? TimeSpan.FromMilliseconds(200),
                LeaseTimeout = heartbeat is null ? TimeSpan.FromSeconds(15) : TimeSpan.FromHours(2),
                PollInterval = TimeSpan.FromMilliseconds(200),
            },
            TimeProvider.System,
            NullLogger<PostgresStorage>.Instance);
        _storages.Add(storage);
        return storage;
    }

    private async Task Sql(string sql)
    {
        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
