using QueueApi.Engine.Configuration;
using QueueApi.Engine.Resilience;

namespace QueueApi.Engine.Tests;

/// <summary>The breaker's rules, driven by explicit times (in ticks) so no test waits for a clock.</summary>
public sealed class CircuitBreakerTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    private CircuitBreaker Create(double ratio = 0.5, int minimum = 4, int samplingSeconds = 10, int breakSeconds = 5) => new(
        new CircuitBreakerOptions
        {
            FailureRatio = ratio,
            MinimumThroughput = minimum,
            SamplingDuration = TimeSpan.FromSeconds(samplingSeconds),
            BreakDuration = TimeSpan.FromSeconds(breakSeconds),
        },
        workers: 1);

    private static long At(double seconds) => T0 + TimeSpan.FromSeconds(seconds).Ticks;

    private void Outcome(CircuitBreaker breaker, long now, bool ok)
    {
        Assert.True(breaker.TryEnter(now, out _, out var probe));
        if (ok)
        {
            breaker.OnSuccess(0, now, probe);
        }
        else
        {
            breaker.OnFailure(now, probe);
        }
    }

    [Fact]
    public void OpensWhenTheFailureRatioIsReachedAtTheMinimumThroughput()
    {
        var breaker = Create();
        DateTimeOffset? opened = null;
        breaker.Opened += until => opened = until;

        Outcome(breaker, At(0), ok: true);
        Outcome(breaker, At(0), ok: false);
        Outcome(breaker, At(0), ok: false);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(0))); // 3 < minimum throughput 4

        Outcome(breaker, At(1), ok: false); // 3 of 4 failed, ratio 0.75 >= 0.5
        Assert.Equal(BreakerState.Open, breaker.StateAt(At(1)));
        Assert.Equal(new DateTimeOffset(At(6), TimeSpan.Zero), opened);
        Assert.False(breaker.TryEnter(At(2), out var retryAfter, out _));
        Assert.Equal(TimeSpan.FromSeconds(4), retryAfter);
        Assert.Equal(TimeSpan.FromSeconds(4), breaker.BreakRemaining(At(2)));
    }

    [Fact]
    public void SuccessesKeepTheRatioBelowTheThreshold()
    {
        var breaker = Create();
        for (var i = 0; i < 10; i++)
        {
            Outcome(breaker, At(0), ok: true);
        }

        for (var i = 0; i < 9; i++)
        {
            Outcome(breaker, At(1), ok: false); // 9 of 19 failed: below 0.5
        }

        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(1)));
        Outcome(breaker, At(1), ok: false); // 10 of 20
        Assert.Equal(BreakerState.Open, breaker.StateAt(At(1)));
    }

    [Fact]
    public void OutcomesOlderThanTheSamplingWindowNoLongerCount()
    {
        var breaker = Create(samplingSeconds: 10);
        for (var i = 0; i < 3; i++)
        {
            Outcome(breaker, At(0), ok: false);
        }

        // Eleven seconds later the three failures have left the window: one more is 1 of 1, below the minimum.
        Outcome(breaker, At(11), ok: false);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(11)));
    }

    [Fact]
    public void SuccessesOlderThanTheSamplingWindowNoLongerCount()
    {
        var breaker = Create(samplingSeconds: 10);
        for (var i = 0; i < 100; i++)
        {
            Outcome(breaker, At(0), ok: true);
        }

        // Eleven seconds later those successes have left the window: 3 failures of 4 new outcomes open it, where
        // 3 of 104 would not have.
        Outcome(breaker, At(11), ok: true);
        Outcome(breaker, At(11), ok: false);
        Outcome(breaker, At(12), ok: false);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(12))); // 3 < minimum throughput 4
        Outcome(breaker, At(12), ok: false);
        Assert.Equal(BreakerState.Open, breaker.StateAt(At(12)));
    }

    [Fact]
    public void AfterTheBreakOneProbeGoesThroughAndItsSuccessCloses()
    {
        var breaker = Create(minimum: 2, breakSeconds: 5);
        Outcome(breaker, At(0), ok: false);
        Outcome(breaker, At(0), ok: false);
        Assert.Equal(BreakerState.Open, breaker.StateAt(At(4)));
        Assert.Equal(BreakerState.HalfOpen, breaker.StateAt(At(5)));

        Assert.True(breaker.TryEnter(At(5), out _, out var probe));
        Assert.True(probe);
        Assert.False(breaker.TryEnter(At(5), out var retryAfter, out _)); // one probe at a time
        Assert.Equal(TimeSpan.FromSeconds(5), retryAfter);

        breaker.OnSuccess(0, At(5), probe);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(5)));
        Assert.True(breaker.TryEnter(At(5), out _, out var again));
        Assert.False(again);
    }

    [Fact]
    public void AFailedProbeOpensTheCircuitForAnotherBreak()
    {
        var breaker = Create(minimum: 2, breakSeconds: 5);
        Outcome(breaker, At(0), ok: false);
        Outcome(breaker, At(0), ok: false);

        Assert.True(breaker.TryEnter(At(6), out _, out var probe));
        breaker.OnFailure(At(6), probe);

        Assert.Equal(BreakerState.Open, breaker.StateAt(At(10)));
        Assert.Equal(new DateTimeOffset(At(11), TimeSpan.Zero), breaker.OpenUntil);
    }

    [Fact]
    public void ADisabledBreakerNeverRejects()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { Enabled = false, MinimumThroughput = 2 }, workers: 1);
        for (var i = 0; i < 10; i++)
        {
            Outcome(breaker, At(0), ok: false);
        }

        Assert.Equal(BreakerState.Disabled, breaker.StateAt(At(0)));
        Assert.True(breaker.TryEnter(At(0), out _, out _));
    }
}
