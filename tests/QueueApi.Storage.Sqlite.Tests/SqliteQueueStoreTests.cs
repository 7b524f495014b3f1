using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Sqlite.Queues;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>What the SQLite store does beyond the shared contract: the poison rule, retry times and storage faults.</summary>
public sealed class SqliteQueueStoreTests : IDisposable
{
    private static readonly WorkerSlot W0 = new(0, "q-1");
    private readonly TempDatabase _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TheWriterThreadIsHandedToTheSupervisorToWatch()
    {
        using var storage = Storage();
        IMessageStorage seam = storage;

        var thread = Assert.Single(seam.Threads);
        Assert.Same(storage.Writer.Thread, thread);
        Assert.True(thread.IsAlive && thread.IsBackground);
    }

    [Fact]
    public async Task AMessageThatWasInFlightAtMaxCrashesDeathsIsDeadLetteredAsPoisonInsteadOfRunningAgain()
    {
        var options = new QueueOptions { MaxCrashes = 2, MaxAttempts = 10 };
        string id;
        using (var storage = Storage())
        {
            var store = storage.Open("q", options);
            var m = NewMessage();
            id = m.Id;
            Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueAsync(m, TestContext.Current.CancellationToken));
            Start(store);
        }

        using (var storage = Storage())
        {
            var store = storage.Open("q", options);
            var again = Start(store);
            Assert.Equal((id, 2), (again.Id, again.Attempts));
        }

        using (var storage = Storage())
        {
            var store = storage.Open("q", options);

            Assert.False(store.TryClaimNow(W0, out _));
            var dead = Assert.Single(store.DeadLetters(10));
            Assert.Equal((id, MessageStatus.DeadLettered, "crashed the worker 2 times (poison message)"), (dead.Id, dead.Status, dead.Error));
            var c = store.Counts();
            Assert.Equal((1L, 1L, 0), (c.Accepted, c.DeadLettered, c.Queued));
            Assert.True(c.Balanced);
        }
    }

    [Fact]
    public async Task AMessageAFaultedWorkerHeldIsKeptByTheStopAndCountsAsACrashAtTheNextStart()
    {
        var options = new QueueOptions { MaxCrashes = 1 };
        string id;
        using (var storage = Storage())
        {
            var store = storage.Open("q", options);
            var m = NewMessage();
            id = m.Id;
            await store.EnqueueAsync(m, TestContext.Current.CancellationToken);
            Start(store); // Its worker faults here: it never finishes nor releases the message.
            store.StopAccepting();

            Assert.Equal(new StopLeftover(0, 1), store.Settle("worker q-1 faulted"));
        }

        using var restarted = Storage();
        var again = restarted.Open("q", options);

        var dead = Assert.Single(again.DeadLetters(10));
        Assert.Equal((id, "crashed the worker 1 time (poison message)"), (dead.Id, dead.Error));
    }

    [Fact]
    public async Task ARetryingMessageFromAnEarlierRunWaitsForItsNextAttemptTime()
    {
        using (var storage = Storage())
        {
            var store = storage.Open("q", new QueueOptions());
            var m = NewMessage();
            await store.EnqueueAsync(m, TestContext.Current.CancellationToken);
            Start(store);
            store.Retrying(m, W0, _time.GetUtcNow().AddSeconds(30), "X: later");
        }

        using (var storage = Storage())
        {
            var store = storage.Open("q", new QueueOptions());
            Assert.False(store.TryClaimNow(W0, out _));
            Assert.Equal(1, store.Counts().Retrying);
            Assert.True(store.Counts().Balanced);

            _time.Advance(TimeSpan.FromSeconds(31));

            Assert.True(store.TryClaimNow(W0, out var due));
            Assert.Equal(1, due!.Attempts);
        }
    }

    [Fact]
    public async Task AFullDiskRefusesTheEnqueueAsStorageUnavailableAndNothingJoinsTheLine()
    {
        using (Storage())
        {
            // Created at the normal size first; the cap applies to the connections opened next.
        }

        _temp.Options.MaxPageCount = 40;
        using var storage = Storage();
        var store = storage.Open("q", new QueueOptions { Capacity = 100_000 });
        var big = new string('x', 2000);
        EnqueueStatus status;
        var accepted = 0;
        do
        {
            status = await store.EnqueueAsync(NewMessage($"{{\"x\":\"{big}\"}}"), TestContext.Current.CancellationToken);
            accepted += status == EnqueueStatus.Accepted ? 1 : 0;
        }
        while (status == EnqueueStatus.Accepted && accepted < 10_000);

        Assert.Equal(EnqueueStatus.StorageUnavailable, status);
        Assert.Equal(accepted, store.QueuedCount);
        Assert.Equal(accepted, store.Counts().Accepted);
        var health = await storage.CheckHealthAsync(TestContext.Current.CancellationToken);
        Assert.False(health.Healthy);
        Assert.Contains(_temp.FilePath, health.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACancelWhoseWriteFailedIsWrittenByItsRetrySoARestartDoesNotRunTheMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        var m = NewMessage();
        using (var storage = Storage())
        {
            var store = (SqliteQueueStore)storage.Open("q", new QueueOptions());
            Assert.Equal(EnqueueStatus.Accepted, await store.EnqueueAsync(m, ct));

            // The writer holds its next group past the cancel's wait: the cancel stands here, the file still says queued.
            using var hold = new ManualResetEventSlim(false);
            storage.Writer.HoldGroups = hold;
            store.CommitWait = TimeSpan.FromMilliseconds(50);
            Assert.Equal(CancelResult.StorageUnavailable, await store.CancelAsync(m.Id, ct));
            storage.Writer.HoldGroups = null;
            hold.Set();
            store.CommitWait = TimeSpan.FromSeconds(10);

            Assert.Equal(CancelResult.Done, await store.CancelAsync(m.Id, ct));
        }

        using var reopened = Storage();
        var again = reopened.Open("q", new QueueOptions());
        Assert.Equal(0, again.QueuedCount);
        Assert.False(again.TryClaimNow(W0, out _));
        Assert.Equal((1L, 1L), (again.Counts().Accepted, again.Counts().Dropped));
    }

    [Fact]
    public async Task AQueueLargerThanItsCapacityLoadsWhatFitsAndKeepsTheRestStored()
    {
        using (var storage = Storage())
        {
            var store = storage.Open("q", new QueueOptions { Capacity = 10 });
            for (var i = 0; i < 10; i++)
            {
                await store.EnqueueAsync(NewMessage(), TestContext.Current.CancellationToken);
            }
        }

        using var reopened = Storage();
        var smaller = reopened.Open("q", new QueueOptions { Capacity = 4 });

        Assert.Equal(4, smaller.QueuedCount);
        var c = smaller.Counts();
        Assert.Equal((10L, 10), (c.Accepted, c.Queued));
        Assert.True(c.Balanced);
    }

    /// <summary>
    /// Over capacity at start-up, what is loaded is what a claim would take first: highest effective priority. With
    /// packed intake the default-priority messages sit in packed rows, which the start expands to rank them.
    /// </summary>
    [Theory]
    [InlineData(0, false, 2)] // strict priority
    [InlineData(60, false, 2)] // aging: an old low-priority message has risen above newer default ones
    [InlineData(0, true, 3)] // room for a third: a default-priority message, which packing keeps in a packed row
    [InlineData(60, true, 3)]
    public async Task AQueueLargerThanItsCapacityLoadsTheMostUrgentFirst(int agingSeconds, bool packed, int room)
    {
        _temp.Options.PackIntake = packed;
        var aging = TimeSpan.FromSeconds(agingSeconds);
        using (var storage = Storage())
        {
            var store = storage.Open("q", new QueueOptions { Capacity = 10, PriorityAging = aging });
            await store.EnqueueAsync(NewMessage("\"old low\"", priority: 1), TestContext.Current.CancellationToken);
            _time.Advance(TimeSpan.FromMinutes(10)); // 1 + 10 steps of 60 s: effective 9 under aging
            foreach (var (payload, priority) in new[] { ("\"a\"", 5), ("\"urgent\"", 8), ("\"b\"", 5), ("\"c\"", 5) })
            {
                await store.EnqueueAsync(NewMessage(payload, priority), TestContext.Current.CancellationToken);
            }
        }

        using var reopened = Storage();
        var smaller = reopened.Open("q", new QueueOptions { Capacity = room, PriorityAging = aging });

        var loaded = new List<string>();
        while (smaller.TryClaimNow(W0, out var m))
        {
            loaded.Add(System.Text.Encoding.UTF8.GetString(m!.Payload));
        }

        string[] order = agingSeconds == 0 ? ["\"urgent\"", "\"a\"", "\"b\""] : ["\"old low\"", "\"urgent\"", "\"a\""];
        Assert.Equal(order.Take(room), loaded);
        Assert.Equal(5, smaller.Counts().Accepted);
    }

    public void Dispose() => _temp.Dispose();

    private SqliteStorage Storage() => new(_temp.Options, _temp.Folder, _time);

    private QueueMessage NewMessage(string payload = "{}", int priority = MessagePriority.Default)
    {
        var now = _time.GetUtcNow();
        return new QueueMessage(MessageId.Next(now), "q", System.Text.Encoding.UTF8.GetBytes(payload), now) { Priority = priority };
    }

    private QueueMessage Start(IQueueStore store)
    {
        Assert.True(store.TryClaimNow(W0, out var m));
        store.Processing(m!, W0, _time.GetUtcNow());
        store.AttemptStarted(m!, W0);
        return m!;
    }
}
