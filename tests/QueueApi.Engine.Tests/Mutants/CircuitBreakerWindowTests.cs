using QueueApi.Engine.Configuration;
using QueueApi.Engine.Resilience;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The breaker's window after a close, and a disabled breaker that never opens, driven by explicit ticks.</summary>
public sealed class CircuitBreakerWindowTests
{
    [Fact]
    public void ADisabledBreakerNeverOpensNorRaisesOpenedWhateverFails()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { Enabled = false, MinimumThroughput = 2, FailureRatio = 0.5 }, workers: 1);
        var opened = 0;
        breaker.Opened += _ => opened++;
        var now = DateTimeOffset.UtcNow.UtcTicks;

        for (var i = 0; i < 5; i++)
        {
            breaker.OnFailure(now, probe: false);
        }

        Assert.Equal(0, opened);
        Assert.False(breaker.IsOpen);
        Assert.Null(breaker.OpenUntil);
        Assert.Equal(TimeSpan.Zero, breaker.BreakRemaining(now));
    }

    [Fact]
    public void SuccessesRightAfterAQuickCloseCountInTheFreshWindow()
    {
        // A break (1 s) shorter than a bucket (30 s / 10 = 3 s): the circuit closes inside the bucket it opened in.
        var options = new CircuitBreakerOptions
        {
            FailureRatio = 0.6,
            MinimumThroughput = 4,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(1),
        };
        var breaker = new CircuitBreaker(options, workers: 1);
        var bucket = options.SamplingDuration.Ticks / 10;
        var start = (DateTimeOffset.UtcNow.UtcTicks / bucket + 1) * bucket;
        long At(double seconds) => start + TimeSpan.FromSeconds(seconds).Ticks;

        for (var i = 0; i < 4; i++)
        {
            Assert.True(breaker.TryEnter(At(0), out _, out _));
            breaker.OnFailure(At(0), probe: false);
        }

        Assert.True(breaker.IsOpen);
        Assert.True(breaker.TryEnter(At(1.1), out _, out var probe));
        Assert.True(probe);
        breaker.OnSuccess(0, At(1.1), probe);
        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(1.1)));

        // Still in the same bucket: 3 successes then 4 failures is a ratio of 4/7 < 0.6, so the circuit stays closed.
        for (var i = 0; i < 3; i++)
        {
            Assert.True(breaker.TryEnter(At(1.2), out _, out var p));
            breaker.OnSuccess(0, At(1.2), p);
        }

        for (var i = 0; i < 4; i++)
        {
            Assert.True(breaker.TryEnter(At(1.3), out _, out var p));
            breaker.OnFailure(At(1.3), p);
        }

        Assert.Equal(BreakerState.Closed, breaker.StateAt(At(1.3)));
    }
}
