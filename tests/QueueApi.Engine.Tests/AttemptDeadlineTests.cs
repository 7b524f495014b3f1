using QueueApi.Engine.Supervision;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests;

/// <summary>One worker's attempt deadline as the supervisor sees it, on timestamps given by the test (frequency 1000: milliseconds).</summary>
public sealed class AttemptDeadlineTests
{
    private sealed class Watcher : ISupervisor
    {
        public CancellationTokenSource Shutdown { get; } = new();
        public List<long> Armed { get; } = [];
        public CancellationToken ShutdownToken => Shutdown.Token;
        public void OnWorkerFaulted(WorkerFault fault) { }
        public void OnWorkerExited() { }
        public void OnDeadlineArmed(long deadline) => Armed.Add(deadline);
    }

    private static AttemptDeadline Create(Watcher watcher) => new(watcher, stuckGrace: TimeSpan.FromSeconds(2), timestampFrequency: 1000);

    [Fact]
    public void WithNoAttemptThereIsNothingToWatch()
    {
        var deadline = Create(new Watcher());
        Assert.Equal(0, deadline.Next);
        Assert.False(deadline.TimedOut);
        Assert.False(deadline.IsStuck(long.MaxValue / 2));
        Assert.False(deadline.Token.IsCancellationRequested);
    }

    [Fact]
    public void AnArmedAttemptIsWatchedUntilItsLimitAndTellsTheSupervisor()
    {
        var watcher = new Watcher();
        var deadline = Create(watcher);

        var armed = deadline.Arm(start: 10_000, TimeSpan.FromSeconds(5));

        Assert.Equal(15_000, armed);
        Assert.Equal([15_000L], watcher.Armed);
        Assert.Equal(15_000, deadline.Next);
        deadline.TimeOut(15_000); // at the limit, not past it
        Assert.False(deadline.TimedOut);
        Assert.False(deadline.Token.IsCancellationRequested);
        Assert.False(deadline.IsStuck(17_000));
    }

    [Fact]
    public void ADeadlineIsNeverZeroOrNegative()
    {
        var deadline = Create(new Watcher());
        Assert.Equal(1, deadline.Arm(start: -5_000, TimeSpan.FromSeconds(1)));
        Assert.Equal(1, deadline.Next);
    }

    [Fact]
    public void PastItsLimitTheSupervisorCancelsTheTokenAndWatchesForTheGrace()
    {
        var deadline = Create(new Watcher());
        var armed = deadline.Arm(start: 10_000, TimeSpan.FromSeconds(5));
        var token = deadline.Token;

        deadline.TimeOut(15_001);

        Assert.True(deadline.TimedOut);
        TestEngine.WaitFor(() => token.IsCancellationRequested, "the attempt's token to be cancelled");
        Assert.Equal(17_000, deadline.Next); // the limit plus the grace
        Assert.False(deadline.IsStuck(17_000));
        Assert.True(deadline.IsStuck(17_001));

        deadline.Disarm(armed);
        Assert.Equal(0, deadline.Next);
        Assert.False(deadline.TimedOut);
        Assert.False(deadline.Token.IsCancellationRequested); // a fresh token for the next attempt
        Assert.False(deadline.IsStuck(100_000));
    }

    [Fact]
    public void AnUnclaimedAttemptKeepsItsTokenWithoutItsRegistrations()
    {
        var deadline = Create(new Watcher());
        var armed = deadline.Arm(start: 0, TimeSpan.FromSeconds(5));
        var token = deadline.Token;
        var fired = false;
        token.Register(() => fired = true);

        deadline.Disarm(armed);

        Assert.Equal(token, deadline.Token);
        Assert.Equal(0, deadline.Next);
        var next = deadline.Arm(start: 10_000, TimeSpan.FromSeconds(1));
        // Read once: after the time-out the deadline hands its source on to be cancelled and disposed, so
        // reading deadline.Token again while waiting races with that disposal (ObjectDisposedException).
        var second = deadline.Token;
        deadline.TimeOut(11_001);
        TestEngine.WaitFor(() => second.IsCancellationRequested, "the second attempt's token to be cancelled");
        Assert.False(fired);
        deadline.Disarm(next);
    }

    [Fact]
    public void ATimeOutOfAnAttemptThatEndedDoesNothing()
    {
        var deadline = Create(new Watcher());
        var armed = deadline.Arm(start: 0, TimeSpan.FromSeconds(1));
        deadline.Disarm(armed);

        deadline.TimeOut(5_000);

        Assert.False(deadline.TimedOut);
        Assert.False(deadline.Token.IsCancellationRequested);
    }

    [Fact]
    public void ShutdownCancelsTheAttemptsToken()
    {
        var watcher = new Watcher();
        var deadline = Create(watcher);
        deadline.Arm(start: 0, TimeSpan.FromSeconds(1));
        watcher.Shutdown.Cancel();
        Assert.True(deadline.Token.IsCancellationRequested);
    }
}
