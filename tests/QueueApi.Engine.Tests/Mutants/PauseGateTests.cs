using QueueApi.Engine.Queues;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The pause gate on its own: its first state follows the stored flag, and a pause closes it.</summary>
public sealed class PauseGateTests
{
    [Fact]
    public void AGateBuiltPausedIsClosedAndOneBuiltRunningIsOpen()
    {
        var paused = new PauseGate(paused: true);
        var running = new PauseGate(paused: false);

        Assert.True(paused.IsPaused);
        Assert.False(paused.WaitUntilRunning(TimeSpan.Zero, TestContext.Current.CancellationToken));
        Assert.False(running.IsPaused);
        Assert.True(running.WaitUntilRunning(TimeSpan.Zero, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void PausingClosesTheGateWakesEveryRegisteredWorkerAndResumingOpensIt()
    {
        var gate = new PauseGate(paused: false);
        var woken = 0;
        gate.Register(() => woken++);
        gate.Register(() => woken++);

        gate.Pause();

        Assert.True(gate.IsPaused);
        Assert.False(gate.WaitUntilRunning(TimeSpan.Zero, TestContext.Current.CancellationToken));
        Assert.Equal(2, woken);

        gate.Resume();

        Assert.False(gate.IsPaused);
        Assert.True(gate.WaitUntilRunning(TimeSpan.Zero, TestContext.Current.CancellationToken));
    }
}
