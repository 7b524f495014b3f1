using System.Collections.Concurrent;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>
/// Priorities as every store must keep them (issue 16): higher first, equal ones in order of arrival, and the
/// starvation guard (a waiting message gains one level per PriorityAging, up to 9; on a tie the longer-waiting one
/// goes first). Time is the fake clock, so aging moves only when a test advances it.
/// </summary>
public abstract partial class QueueStoreContractTests
{
    protected QueueMessage AcceptWithPriority(IQueueStore store, int priority, string payload = "{}")
    {
        var m = NewMessage(payload);
        m.Priority = priority;
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, m));
        return m;
    }

    private static QueueOptions AgingOptions(TimeSpan aging, int capacity = 100)
    {
        var o = Options(capacity: capacity);
        o.PriorityAging = aging;
        return o;
    }

    [Fact]
    public void AHigherPriorityIsClaimedFirstAndEqualPrioritiesInOrderOfArrival()
    {
        Requires(StoreFeatures.Priorities);
        var store = Open();
        var low = AcceptWithPriority(store, 1);
        var plain1 = Accept(store);
        var high1 = AcceptWithPriority(store, 9);
        var plain2 = Accept(store);
        var high2 = AcceptWithPriority(store, 9);
        var seven = AcceptWithPriority(store, 7);

        var order = Enumerable.Range(0, 6).Select(_ => Claim(store, W0).Id).ToList();

        Assert.Equal([high1.Id, high2.Id, seven.Id, plain1.Id, plain2.Id, low.Id], order);
        Assert.False(store.TryClaimNow(W0, out _));
    }

    [Fact]
    public void AMessageKeepsItsPriorityInItsStatus()
    {
        Requires(StoreFeatures.Priorities);
        var store = Open();
        var m = AcceptWithPriority(store, 8);
        var plain = Accept(store);

        Assert.Equal(8, Find(store, m.Id)!.Priority);
        Assert.Equal(MessagePriority.Default, Find(store, plain.Id)!.Priority);
        Assert.Equal(8, Claim(store, W0).Priority);
    }

    [Fact]
    public void TheQueueViewCountsQueuedMessagesPerPriorityWithTheOldestWaiting()
    {
        Requires(StoreFeatures.Priorities);
        var store = Open();
        var firstHigh = AcceptWithPriority(store, 9);
        Time.Advance(TimeSpan.FromSeconds(1));
        AcceptWithPriority(store, 9);
        Accept(store);

        var lanes = store.Priorities();

        Assert.Equal([(9, 2), (5, 1)], lanes.Select(l => (l.Priority, l.Queued)));
        Assert.Equal(firstHigh.EnqueuedAt, lanes[0].OldestWaitingSince);
    }

    [Fact]
    public void AWaitingMessageGainsOneLevelPerAgingPeriodAndWinsATieByWaitingLonger()
    {
        Requires(StoreFeatures.Priorities);
        var store = Open(AgingOptions(TimeSpan.FromSeconds(30)));
        var old = Accept(store); // 5
        Time.Advance(TimeSpan.FromSeconds(30)); // old is 6 now
        var six = AcceptWithPriority(store, 6);
        var seven = AcceptWithPriority(store, 7);

        Assert.Equal(seven.Id, Claim(store, W0).Id);
        Assert.Equal(old.Id, Claim(store, W0).Id); // 6 against 6: the one waiting longer
        Assert.Equal(six.Id, Claim(store, W0).Id);
    }

    [Fact]
    public void AStarvedLowPriorityMessageReachesNineAndIsNotOvertakenForever()
    {
        Requires(StoreFeatures.Priorities);
        var store = Open(AgingOptions(TimeSpan.FromSeconds(30)));
        var starved = AcceptWithPriority(store, 0);
        AcceptWithPriority(store, 9);
        Assert.NotEqual(starved.Id, Claim(store, W0).Id);

        // Nine periods later it is 9 and has waited longest: it goes before any newcomer.
        Time.Advance(TimeSpan.FromSeconds(30 * 9) - TimeSpan.FromTicks(1));
        AcceptWithPriority(store, 9);
        Assert.NotEqual(starved.Id, Claim(store, W0).Id); // still 8 a tick before

        Time.Advance(TimeSpan.FromTicks(1));
        AcceptWithPriority(store, 9);
        Assert.Equal(starved.Id, Claim(store, W0).Id);
    }

    [Fact]
    public void WithAgingOffPriorityIsStrictHoweverLongAMessageWaits()
    {
        Requires(StoreFeatures.Priorities);
        var store = Open(AgingOptions(TimeSpan.Zero));
        var low = AcceptWithPriority(store, 0);
        Time.Advance(TimeSpan.FromDays(1));
        var high = AcceptWithPriority(store, 1);

        Assert.Equal(high.Id, Claim(store, W0).Id);
        Assert.Equal(low.Id, Claim(store, W0).Id);
    }

    [Fact]
    public void ADelayedMessageAgesFromItsDueTimeNotFromItsEnqueue()
    {
        Requires(StoreFeatures.Priorities);
        var store = Open(AgingOptions(TimeSpan.FromSeconds(30)));
        var delayed = Delayed(TimeSpan.FromMinutes(10));
        Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, delayed));
        Time.Advance(TimeSpan.FromMinutes(10));
        var six = AcceptWithPriority(store, 6);

        Assert.Equal(six.Id, Claim(store, W0).Id);
        Assert.Equal(delayed.Id, Claim(store, W0).Id);
    }

    /// <summary>
    /// Many producers with mixed priorities race two claimers (the clock stands still: no aging). A claim that
    /// started after a higher-priority message was stored must not end before that message's own claim began:
    /// otherwise the claim passed over it.
    /// </summary>
    private static readonly TimeSpan LoadBound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task UnderLoadAHigherPriorityMessageNeverWaitsBehindALowerOne()
    {
        Requires(StoreFeatures.Priorities);
        const int producers = 4, perProducer = 500, total = producers * perProducer;
        var store = Open(Options(capacity: total));
        long clock = 0;
        var storedAt = new ConcurrentDictionary<string, (int Priority, long At)>();
        var claims = new ConcurrentBag<(string Id, int Priority, long Start, long End)>();
        var claimed = 0;
        var ct = TestContext.Current.CancellationToken;

        // Threads of their own (LongRunning): the producers block on a durable store's commits, whose completions
        // run on the thread pool, and the claimers never yield; on the pool they would starve those completions.
        var producing = Enumerable.Range(0, producers).Select(p => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(p);
                for (var i = 0; i < perProducer; i++)
                {
                    var m = NewMessage();
                    m.Priority = random.Next(0, 10);
                    Assert.Equal(EnqueueStatus.Accepted, Enqueue(store, m));
                    storedAt[m.Id] = (m.Priority, Interlocked.Increment(ref clock));
                }
            },
            ct,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        var claiming = new[] { W0, W1 }.Select(w => Task.Factory.StartNew(
            () =>
            {
                while (Volatile.Read(ref claimed) < total && !ct.IsCancellationRequested)
                {
                    var start = Interlocked.Increment(ref clock);
                    if (store.TryClaimNow(w, out var m))
                    {
                        claims.Add((m!.Id, m.Priority, start, Interlocked.Increment(ref clock)));
                        Interlocked.Increment(ref claimed);
                    }
                    else
                    {
                        Thread.Yield(); // Nothing ready: let the producers (and a durable store's writer) have the core.
                    }
                }
            },
            ct,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        // A hang guard, not a speed target: a shared store on a loaded machine takes tens of seconds for these.
        await Task.WhenAll(producing).WaitAsync(LoadBound, ct);
        await Task.WhenAll(claiming).WaitAsync(LoadBound, ct);

        Assert.Equal(total, claims.Count);
        var claimStart = claims.ToDictionary(c => c.Id, c => c.Start);
        var passedOver = claims
            .SelectMany(low => storedAt
                .Where(h => h.Value.Priority > low.Priority && h.Value.At < low.Start && claimStart[h.Key] > low.End)
                .Select(h => $"{h.Key} (priority {h.Value.Priority}) waited behind {low.Id} (priority {low.Priority})"))
            .Take(5)
            .ToList();
        Assert.Empty(passedOver);
    }
}
