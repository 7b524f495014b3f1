using System.Collections.Concurrent;
using System.Diagnostics;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests;

/// <summary>
/// The rate limit refills on the framework limiter's own wall-clock timer (it takes no TimeProvider), so these
/// tests either use a rate so slow that no refill can come during the test, or assert a lower bound on time,
/// which load can only make larger.
/// </summary>
public sealed class RateLimitTests
{
    [Fact]
    public void ABurstStartsAtOnceAndTheNextMessageWaitsThrottledHoldingItsClaim()
    {
        // One permit per 1,000 s: after the burst of 2, nothing refills while the test runs.
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q =>
        {
            q.Workers = 2;
            q.RateLimit = new RateLimitOptions { PermitsPerSecond = 0.001, Burst = 2 };
        });
        var queue = engine.Queues.Single();

        var messages = Enumerable.Range(0, 4).Select(_ => engine.Enqueue()).ToList();

        TestEngine.WaitFor(() => messages.Count(m => m.Status == MessageStatus.Succeeded) == 2, "the burst of two to run");
        // A worker shows Throttled just before it joins the bucket's queue of waiters: wait for both.
        TestEngine.WaitFor(
            () => engine.Workers.Any(w => w.State == WorkerState.Throttled) && queue.RateLimit!.WaitingWorkers >= 1,
            "a worker to wait for a permit");
        Assert.Equal(2, messages.Count(m => m.Status == MessageStatus.Queued));
        var state = queue.RateLimit!;
        Assert.Equal(0, state.AvailablePermits);
        Assert.Equal(2, state.Burst);
    }

    [Fact]
    public async Task AStopWakesAThrottledWorkerAtOnce()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q =>
        {
            q.Workers = 1;
            q.RateLimit = new RateLimitOptions { PermitsPerSecond = 0.001, Burst = 1 };
        });
        var first = engine.Enqueue();
        var second = engine.Enqueue();
        TestEngine.WaitFor(() => first.Status == MessageStatus.Succeeded && engine.Workers.Single().State == WorkerState.Throttled, "the worker to wait for its next permit");

        var watch = Stopwatch.StartNew();
        engine.RequestStop(ShutdownMode.Immediate);

        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {watch.Elapsed}");
        Assert.Equal(MessageStatus.Failed, second.Status);
        Assert.Equal("cancelled by shutdown", second.Error);
        Assert.Equal(0, second.Attempts);
    }

    [Fact]
    public void StartsAreSpacedByTheRate()
    {
        // 40 per second with a burst of 1: the bucket holds one token, and the other ten come one per 25 ms refill.
        // Measured from before the first enqueue (not from the first start, whose thread may be descheduled between
        // its permit and its clock read), so load can only make the span longer.
        var starts = new ConcurrentQueue<long>();
        using var engine = TestEngine.Create(new DelegateHandler((_, _) =>
        {
            starts.Enqueue(Stopwatch.GetTimestamp());
            return ValueTask.CompletedTask;
        }), q =>
        {
            q.Workers = 4;
            q.RateLimit = new RateLimitOptions { PermitsPerSecond = 40, Burst = 1 };
        });

        var before = Stopwatch.GetTimestamp();
        var messages = Enumerable.Range(0, 11).Select(_ => engine.Enqueue()).ToList();

        TestEngine.WaitFor(() => messages.All(m => m.Status == MessageStatus.Succeeded), "every message to run");
        var span = Stopwatch.GetElapsedTime(before, starts.Max());
        // Ten refills take at least 9 periods after the first (225 ms); a refill timer may fire a little early.
        Assert.True(span >= TimeSpan.FromMilliseconds(200), $"11 starts within {span.TotalMilliseconds:0} ms at 40 per second");
    }

    [Fact]
    public void AQueueWithoutARateLimitShowsNone()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        Assert.Null(engine.Queues.Single().RateLimit);
    }
}
