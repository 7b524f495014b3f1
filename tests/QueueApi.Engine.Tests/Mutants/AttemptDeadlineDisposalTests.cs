using QueueApi.Engine.Supervision;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The source the supervisor claims at a timeout is cancelled and then disposed by it, so timed-out attempts leave no live sources behind.</summary>
public sealed class AttemptDeadlineDisposalTests
{
    private sealed class Watcher : ISupervisor
    {
        public CancellationTokenSource Shutdown { get; } = new();
        public CancellationToken ShutdownToken => Shutdown.Token;
        public void OnWorkerFaulted(WorkerFault fault) { }
        public void OnWorkerExited() { }
        public void OnDeadlineArmed(long deadline) { }
    }

    private static bool IsDisposed(AttemptDeadline deadline)
    {
        try
        {
            _ = deadline.Token;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    [Fact]
    public void TheSupervisorDisposesTheSourceItClaimedAndTheWorkerTakesAFreshOne()
    {
        var watcher = new Watcher();
        using var shutdown = watcher.Shutdown;
        var deadline = new AttemptDeadline(watcher, stuckGrace: TimeSpan.FromSeconds(2), timestampFrequency: 1000);
        var armed = deadline.Arm(start: 10_000, TimeSpan.FromSeconds(1));
        var token = deadline.Token;

        deadline.TimeOut(11_001);

        // Until the worker disarms, the deadline still points at the claimed source, which the supervisor disposes once cancelled.
        TestEngine.WaitFor(() => IsDisposed(deadline), "the claimed source to be disposed");
        Assert.True(token.IsCancellationRequested);
        deadline.Disarm(armed);
        Assert.False(deadline.Token.IsCancellationRequested);
    }
}
