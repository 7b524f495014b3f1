using QueueApi.Engine.Configuration;
using QueueApi.Engine.Resilience;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The start limiter's bucket refills in small whole steps (about every 10 ms), and counts starts that waited.</summary>
public sealed class StartLimiterRefillTests
{
    private static void Drain(StartLimiter limiter)
    {
        while (limiter.TryStartNow())
        {
        }
    }

    [Fact]
    public void ASlowRateRefillsOnePermitAtATimeNotAWholeBurstAtTheEnd()
    {
        // 10 a second into a bucket of 100: one permit every 100 ms, not 100 permits after 10 s.
        using var limiter = new StartLimiter(new RateLimitOptions { PermitsPerSecond = 10, Burst = 100 }, workers: 1);
        Drain(limiter);

        TestEngine.WaitFor(() => limiter.AvailablePermits >= 1, "a permit to come back", TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void AFastRateRefillsAboutTenMillisecondsOfPermitsAtATime()
    {
        // 1000 a second: 10 permits every 10 ms, so the bucket only ever holds whole refills.
        using var limiter = new StartLimiter(new RateLimitOptions { PermitsPerSecond = 1000, Burst = 100 }, workers: 1);
        Drain(limiter);

        TestEngine.WaitFor(() => limiter.AvailablePermits >= 1, "a refill", TimeSpan.FromSeconds(3));
        Assert.Equal(0, limiter.AvailablePermits % 10);
    }

    [Fact]
    public void AStartThatWaitsForAPermitIsCountedAsDelayed()
    {
        using var limiter = new StartLimiter(new RateLimitOptions { PermitsPerSecond = 1000, Burst = 1 }, workers: 1);
        Assert.Equal(0, limiter.DelayedStarts);

        Assert.True(limiter.WaitToStart(CancellationToken.None));

        Assert.Equal(1, limiter.DelayedStarts);
    }
}
