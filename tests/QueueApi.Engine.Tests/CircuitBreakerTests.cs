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

    [Fact]
    public void AClosedCircuitHasNoBreakLeftAndNoReopeningTime()
    {
        var breaker = Create();
        Assert.True(breaker.Enabled);
        Assert.False(breaker.IsOpen);
        Assert.Null(breaker.OpenUntil);
        Assert.Equal(TimeSpan.Zero, breaker.BreakRemaining(At(0)));
        Assert.True(breaker.TryEnter(At(0), out var retryAfter, out var probe));
        Assert.Equal(TimeSpan.Zero, retryAfter);
        Assert.False(probe);
    }

    [Fact]
    public void AnOpenCircuitsBreakRunsDownToZeroAndNeverBelow()
    {
        var breaker = Create(minimum: 2, breakSeconds: 5);
        Outcome(breaker, At(0), ok: false);
        Outcome(breaker, At(0), ok: false);

        Assert.True(breaker.IsOpen);
        Assert.Equal(new DateTimeOffset(At(5), TimeSpan.Zero), breaker.OpenUntil);
        Assert.Equal(TimeSpan.FromSeconds(5), breaker.BreakRemaining(At(0)));
        Assert.Equal(TimeSpan.Zero, breaker.BreakRemaining(At(5)));
        Assert.Equal(TimeSpan.Zero, breaker.BreakRemaining(At(7)));
        Assert.False(breaker.TryEnter(At(5) - 1, out var retryAfter, out _));
        Assert.Equal(TimeSpan.FromTicks(1), retryAfter);
    }

    [Fact]
    public void ASuccessThatIsNotTheProbeDoesNotCloseAHalfOpenCircuit()
    {
        var breaker = Create(minimum: 2, breakSeconds: 5);
        Outcome(breaker, At(0), ok: false);
        Outcome(breaker, At(0), ok: false);
        Assert.True(breaker.TryEnter(At(5), out _, out var probe));
        Assert.True(probe);

        // A worker whose attempt began before the circuit opened reports its success late.
        breaker.OnSuccess(0, At(5), probe: false);
        Assert.Equal(BreakerState.HalfOpen, breaker.StateAt(At(5)));
        Assert.False(breaker.TryEnter(At(5), out _, out _)); // the probe is still out

        breaker.OnSuccess(0, At(5), probe: true);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(5)));
        Assert.False(breaker.IsOpen);
    }

    [Fact]
    public void ALateFailureWhileOpenDoesNotExtendTheBreak()
    {
        var breaker = Create(minimum: 2, breakSeconds: 5);
        var opened = 0;
        breaker.Opened += _ => opened++;
        Outcome(breaker, At(0), ok: false);
        Outcome(breaker, At(0), ok: false);

        breaker.OnFailure(At(3), probe: false);

        Assert.Equal(1, opened);
        Assert.Equal(new DateTimeOffset(At(5), TimeSpan.Zero), breaker.OpenUntil);
    }

    [Fact]
    public void AClosedCircuitForgetsTheFailuresThatOpenedIt()
    {
        var breaker = Create(minimum: 2, breakSeconds: 5);
        Outcome(breaker, At(0), ok: false);
        Outcome(breaker, At(0), ok: false);
        Assert.True(breaker.TryEnter(At(5), out _, out var probe));
        breaker.OnSuccess(0, At(5), probe);

        // One failure after closing is 1 of 1 in a fresh window: below the minimum throughput of 2.
        Outcome(breaker, At(6), ok: false);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(6)));
        Outcome(breaker, At(6), ok: false);
        Assert.Equal(BreakerState.Open, breaker.StateAt(At(6)));
    }

    [Fact]
    public void FailuresInTheWindowsLastBucketStillCount()
    {
        // Ten buckets of one second: failures at 0 s are in the window until 10 s.
        var breaker = Create(minimum: 4, samplingSeconds: 10);
        for (var i = 0; i < 3; i++)
        {
            Outcome(breaker, At(0), ok: false);
        }

        Outcome(breaker, At(9.5), ok: false);
        Assert.Equal(BreakerState.Open, breaker.StateAt(At(9.5)));
    }

    [Fact]
    public void FailuresLeaveTheWindowExactlyOneSamplingDurationLater()
    {
        var breaker = Create(minimum: 4, samplingSeconds: 10);
        for (var i = 0; i < 3; i++)
        {
            Outcome(breaker, At(0), ok: false);
        }

        Outcome(breaker, At(10), ok: false);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(10)));
    }

    [Fact]
    public void SuccessesOfEveryWorkerCount()
    {
        var breaker = new CircuitBreaker(
            new CircuitBreakerOptions { FailureRatio = 0.5, MinimumThroughput = 4, SamplingDuration = TimeSpan.FromSeconds(10), BreakDuration = TimeSpan.FromSeconds(5) },
            workers: 3);
        for (var worker = 0; worker < 3; worker++)
        {
            breaker.OnSuccess(worker, At(0), probe: false);
            breaker.OnSuccess(worker, At(0), probe: false);
        }

        // 5 failures of 11: below 0.5 only if all six successes (two per worker) count.
        for (var i = 0; i < 5; i++)
        {
            breaker.OnFailure(At(1), probe: false);
        }

        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(1)));
        breaker.OnFailure(At(1), probe: false);
        Assert.Equal(BreakerState.Open, breaker.StateAt(At(1)));
    }

    [Fact]
    public void SuccessesSpreadOverSeveralBucketsAllCountUntilTheyAge()
    {
        var breaker = Create(ratio: 0.5, minimum: 4, samplingSeconds: 10);
        for (var s = 0; s < 5; s++)
        {
            Outcome(breaker, At(s), ok: true);
            Outcome(breaker, At(s), ok: true);
        }

        // 9 failures against 10 successes spread over five buckets stay below half.
        for (var i = 0; i < 9; i++)
        {
            Outcome(breaker, At(5), ok: false);
        }

        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(5)));
    }

    [Fact]
    public void ADisabledBreakerNeverOpensAndReportsNoBreak()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { Enabled = false, MinimumThroughput = 2 }, workers: 1);
        var opened = false;
        breaker.Opened += _ => opened = true;
        for (var i = 0; i < 10; i++)
        {
            breaker.OnFailure(At(0), probe: false);
            breaker.OnSuccess(0, At(0), probe: true);
        }

        Assert.False(breaker.Enabled);
        Assert.False(opened);
        Assert.False(breaker.IsOpen);
        Assert.Null(breaker.OpenUntil);
    }
}
