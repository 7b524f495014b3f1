using System.Threading.RateLimiting;
using Polly;
using Polly.RateLimiting;
using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Resilience;

/// <summary>
/// A queue's rate limit on starting messages: a token bucket (<see cref="TokenBucketRateLimiter"/>) waited on
/// through Polly's rate limiter strategy. Its permits refill on the bucket's own timer, on the wall clock: the
/// framework's limiter takes no <see cref="TimeProvider"/> (see docs/decisions/0021-rate-limit-clock.md).
/// </summary>
internal sealed class StartLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter _bucket;
    private readonly ResiliencePipeline _pipeline;
    private long _delayedStarts;

    public StartLimiter(RateLimitOptions options, int workers)
    {
        Options = options;
        // Refill often enough to keep the rate smooth (about every 10 ms at most), in whole tokens.
        var perPeriod = (int)Math.Min(options.Burst, Math.Max(1, Math.Ceiling(options.PermitsPerSecond / 100)));
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Burst,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(perPeriod / options.PermitsPerSecond),
            AutoReplenishment = true,
            // Every worker may wait at once; the oldest waiter starts first, so claims keep their order.
            QueueLimit = workers,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _pipeline = new ResiliencePipelineBuilder()
            .AddRateLimiter(new RateLimiterStrategyOptions
            {
                RateLimiter = args => _bucket.AcquireAsync(1, args.Context.CancellationToken),
            })
            .Build();
    }

    public RateLimitOptions Options { get; }

    /// <summary>Permits in the bucket now: how many messages could start at once.</summary>
    public long AvailablePermits => _bucket.GetStatistics()?.CurrentAvailablePermits ?? 0;

    /// <summary>Workers holding a claimed message until a permit comes.</summary>
    public long WaitingWorkers => _bucket.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>Starts that had to wait for a permit, since start-up.</summary>
    public long DelayedStarts => Interlocked.Read(ref _delayedStarts);

    /// <summary>Takes a permit if one is in the bucket; never waits.</summary>
    public bool TryStartNow()
    {
        using var lease = _bucket.AttemptAcquire(1);
        return lease.IsAcquired;
    }

    /// <summary>
    /// Waits for a permit on the calling (worker) thread; false when <paramref name="shutdown"/> fired first. The
    /// bucket's queue holds at most one waiter per worker, so the wait ends only by a permit or the token.
    /// </summary>
    public bool WaitToStart(CancellationToken shutdown)
    {
        Interlocked.Increment(ref _delayedStarts);
        try
        {
            _pipeline.Execute(static _ => { }, shutdown);
            return true;
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => _bucket.Dispose();
}
