using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Supervision;

namespace QueueApi.Engine.Tests;

/// <summary>The engine's life as the supervisor records it: one start, one stop request, a failure's override, the phases.</summary>
public sealed class LifecycleTests
{
    private static readonly ShutdownOptions Shutdown = new() { DrainTimeout = TimeSpan.FromSeconds(20), CancelGrace = TimeSpan.FromSeconds(3) };

    [Fact]
    public void AnEngineStartsOnce()
    {
        var life = new Lifecycle(Shutdown, FakeClock.Create());
        Assert.Equal(EngineState.Created, life.State);
        Assert.False(life.IsStopping);

        Assert.True(life.TryStart());
        Assert.False(life.TryStart());
        Assert.Equal(EngineState.Running, life.State);
        Assert.Null(life.Mode);
        Assert.False(life.IsStopping);
    }

    [Fact]
    public void TheFirstStopRequestStandsWithItsDeadline()
    {
        var time = FakeClock.Create();
        var life = new Lifecycle(Shutdown, time);
        life.TryStart();
        var asked = time.GetUtcNow();

        Assert.True(life.TryRequest(ShutdownMode.Drain, StopReason.HostStopping));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(life.TryRequest(ShutdownMode.Immediate, StopReason.Requested));

        Assert.True(life.IsStopping);
        Assert.Equal(ShutdownMode.Drain, life.Mode);
        Assert.Equal(StopReason.HostStopping, life.Reason);
        Assert.Equal(asked, life.RequestedAt);
        Assert.Equal(asked + TimeSpan.FromSeconds(23), life.Deadline);
    }

    [Fact]
    public void AFailureWithoutARequestStopsAtOnceWithTheGraceAsItsDeadline()
    {
        var time = FakeClock.Create();
        var life = new Lifecycle(Shutdown, time);
        life.TryStart();

        life.Fail(StopReason.WorkerStuck);

        Assert.Equal(ShutdownMode.Immediate, life.Mode);
        Assert.Equal(StopReason.WorkerStuck, life.Reason);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(3), life.Deadline);
        Assert.False(life.TryRequest(ShutdownMode.Drain, StopReason.Requested));
    }

    [Fact]
    public void AFailureDuringADrainKeepsTheRequestButTakesTheReason()
    {
        var time = FakeClock.Create();
        var life = new Lifecycle(Shutdown, time);
        life.TryStart();
        life.TryRequest(ShutdownMode.Drain, StopReason.Requested);
        var deadline = life.Deadline;
        time.Advance(TimeSpan.FromSeconds(5));

        life.Fail(StopReason.WorkerFaulted);

        Assert.Equal(ShutdownMode.Drain, life.Mode);
        Assert.Equal(StopReason.WorkerFaulted, life.Reason);
        Assert.Equal(deadline, life.Deadline);
    }

    [Fact]
    public void TheWindDownRecordsEachPhaseInOrderAndEnds()
    {
        var life = new Lifecycle(Shutdown, FakeClock.Create());
        life.TryStart();

        life.Begin();
        Assert.Equal(EngineState.Stopping, life.State);
        Assert.True(life.IsStopping); // stopping even with no request recorded (the supervisor failed)
        life.Phase("one");
        life.Phase("two");
        life.End();

        Assert.Equal(EngineState.Stopped, life.State);
        Assert.Equal(["one", "two"], life.Phases().Select(p => p.Name));
        Assert.All(life.Phases(), p => Assert.True(p.DurationMs >= 0));
    }
}
