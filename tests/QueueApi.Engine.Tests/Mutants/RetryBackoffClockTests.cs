using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>A retry's backoff runs on the engine's clock and is jittered, not a fixed exponential step.</summary>
public sealed class RetryBackoffClockTests
{
    [Fact]
    public void TheBackoffIsJitteredAndWaitsOnTheEnginesClock()
    {
        var time = FakeClock.Create();
        var attempts = 0;
        using var engine = TestEngine.Create(
            new DelegateHandler((_, _) => Interlocked.Increment(ref attempts) == 1 ? throw new InvalidOperationException("first fails") : ValueTask.CompletedTask),
            q =>
            {
                q.Workers = 1;
                q.BaseDelay = TimeSpan.FromMinutes(1);
                q.MaxDelay = TimeSpan.FromHours(1);
            },
            time: time);
        var failedAt = time.GetUtcNow();
        var message = engine.Enqueue();

        TestEngine.WaitFor(() => message.Status == MessageStatus.Retrying && message.NextAttemptAt is not null, "the first retry to be planned");
        var delay = message.NextAttemptAt!.Value - failedAt;
        // Jitter spreads retries: the first delay is not exactly the base delay (as it would be without it), yet bounded.
        Assert.NotEqual(TimeSpan.FromMinutes(1), delay);
        Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromHours(1));

        // Only the engine's clock moves: the retry comes when fake time passes the delay, not after real minutes.
        time.AdvanceUntil(() => message.Status == MessageStatus.Succeeded, TimeSpan.FromMinutes(5), "the retry to run on the fake clock");
        Assert.Equal(2, attempts);
    }
}
