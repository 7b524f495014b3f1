using Microsoft.Extensions.Logging.Abstractions;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Postgres.Tests.Support;

namespace QueueApi.Storage.Postgres.Tests;

/// <summary>
/// Issues 15 and 16 across replicas: two storages on one schema stand for two pods. Keys, cancels and due times
/// live in the database, so what one replica did holds for the other.
/// </summary>
public sealed class SharedFeatureTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly WorkerSlot W0 = new(0, "q-1");
    private readonly PostgresCluster _cluster;
    private readonly string _schema = PostgresCluster.NewSchema();
    private readonly List<PostgresStorage> _storages = [];

    public SharedFeatureTests(PostgresCluster cluster)
    {
        cluster.RequireServer();
        _cluster = cluster;
    }

    private static QueueOptions Queue => new() { Workers = 2, Capacity = 1_000, RetainFinished = 1_000 };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnIdempotencyKeyUsedThroughOneReplicaIsARepeatThroughTheOther()
    {
        var a = Replica().Open("q", Queue);
        var b = Replica().Open("q", Queue);
        var first = Keyed("order-1", """{"n":1}""");
        Assert.Equal(EnqueueStatus.Accepted, await a.EnqueueAsync(first, Ct));

        var repeat = Keyed("order-1", """{"n":1}""");
        var changed = Keyed("order-1", """{"n":2}""");

        Assert.Equal(EnqueueStatus.Duplicate, await b.EnqueueAsync(repeat, Ct));
        Assert.Equal((first.Id, MessageStatus.Queued), (repeat.ReplayOf, repeat.ReplayStatus));
        Assert.Equal(EnqueueStatus.KeyConflict, await b.EnqueueAsync(changed, Ct));
        Assert.Equal(1, b.Counts().Accepted);
    }

    [Fact]
    public async Task OneKeyUsedAtOnceThroughTwoReplicasStoresOneMessageAndTheRestNameIt()
    {
        var a = Replica().Open("q", Queue);
        var b = Replica().Open("q", Queue);
        var uses = Enumerable.Range(0, 16).Select(i => (Store: i % 2 == 0 ? a : b, Message: Keyed("once"))).ToArray();

        var statuses = await Task.WhenAll(uses.Select(u => Task.Run(async () => await u.Store.EnqueueAsync(u.Message, Ct), Ct)));

        var stored = Assert.Single(uses, u => u.Message.ReplayOf is null).Message;
        Assert.Equal(15, statuses.Count(s => s == EnqueueStatus.Duplicate));
        Assert.All(uses.Where(u => u.Message != stored), u => Assert.Equal(stored.Id, u.Message.ReplayOf));
        Assert.Equal(1, a.Counts().Accepted);
    }

    [Fact]
    public async Task AMessageCancelledThroughOneReplicaIsNeverClaimedByTheOther()
    {
        var a = Replica().Open("q", Queue);
        var b = Replica().Open("q", Queue);
        var m = Message();
        Assert.Equal(EnqueueStatus.Accepted, await a.EnqueueAsync(m, Ct));

        Assert.Equal(CancelResult.Done, await b.CancelAsync(m.Id, Ct));

        Assert.False(a.TryClaimNow(W0, out _), "the cancelled message was handed out");
        Assert.Equal(MessageStatus.Dropped, a.TryGet(m.Id, out var seen) ? seen!.Status : MessageStatus.Dropped);
        var c = a.Counts();
        Assert.Equal((1L, 1L, 0), (c.Dropped, c.DroppedReasons["cancelled"], c.Queued));
        Assert.True(c.Balanced, c.ToString());
    }

    [Fact]
    public async Task AMessageOneReplicaHasClaimedCannotBeCancelledThroughTheOther()
    {
        var a = Replica().Open("q", Queue);
        var b = Replica().Open("q", Queue);
        var m = Message();
        Assert.Equal(EnqueueStatus.Accepted, await a.EnqueueAsync(m, Ct));
        Assert.True(a.TryClaimNow(W0, out var claimed));

        Assert.Equal(CancelResult.Running, await b.CancelAsync(m.Id, Ct));

        a.Processing(claimed!, W0, DateTimeOffset.UtcNow);
        a.AttemptStarted(claimed!, W0);
        a.Finish(claimed!, W0, MessageStatus.Succeeded, null, DateTimeOffset.UtcNow.UtcTicks);
        a.Counts(); // a's reports written
        Assert.Equal(CancelResult.Finished, await b.CancelAsync(m.Id, Ct));
        Assert.Equal(0, b.Counts().Dropped);
    }

    /// <summary>
    /// The fallback poll is set beyond the claim's limit, so only the wake-up at the due time (armed by the replica
    /// that found nothing due yet) can start the message within it.
    /// </summary>
    [Fact]
    public async Task AReplicaWaitingForWorkStartsAMessageDelayedThroughAnotherWhenItComesDueWithoutWaitingForThePoll()
    {
        var a = Replica(poll: TimeSpan.FromSeconds(20)).Open("q", Queue);
        var b = Replica(poll: TimeSpan.FromSeconds(20)).Open("q", Queue);
        var m = Message();
        m.DueAt = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
        var waiting = Task.Factory.StartNew(
            () => (b.TryClaim(W0, out var taken, TimeSpan.FromSeconds(10), Ct), taken, At: DateTimeOffset.UtcNow),
            Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.Equal(EnqueueStatus.Accepted, await a.EnqueueAsync(m, Ct));
        Assert.Equal(MessageStatus.Scheduled, b.TryGet(m.Id, out var seen) ? seen!.Status : MessageStatus.Dropped);

        var (result, taken, at) = await waiting.WaitAsync(Timeout, Ct);
        Assert.Equal(TakeResult.Taken, result);
        Assert.Equal(m.Id, taken!.Id);
        Assert.True(at >= m.DueAt, $"started at {at:O}, before its due time {m.DueAt:O}");
    }

    public void Dispose()
    {
        foreach (var s in _storages)
        {
            s.Dispose();
        }
    }

    private static QueueMessage Message(string payload = "{}")
    {
        var now = DateTimeOffset.UtcNow;
        return new QueueMessage(MessageId.Next(now), "q", System.Text.Encoding.UTF8.GetBytes(payload), now);
    }

    private static QueueMessage Keyed(string key, string payload = "{}")
    {
        var m = Message(payload);
        m.SetIdempotencyKey(key, WorkQueue.RequestHash(System.Text.Encoding.UTF8.GetBytes(payload)));
        return m;
    }

    private PostgresStorage Replica(TimeSpan? poll = null)
    {
        var storage = new PostgresStorage(
            new PostgresStorageOptions
            {
                ConnectionString = _cluster.ConnectionString,
                Schema = _schema,
                HeartbeatInterval = TimeSpan.FromMilliseconds(200),
                PollInterval = poll ?? TimeSpan.FromMilliseconds(200),
            },
            TimeProvider.System,
            NullLogger<PostgresStorage>.Instance);
        _storages.Add(storage);
        return storage;
    }
}
