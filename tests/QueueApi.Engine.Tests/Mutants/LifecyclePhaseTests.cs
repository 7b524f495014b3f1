using System.Diagnostics;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Supervision;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>Each phase of a wind-down is timed from the end of the one before (and the first from the start), not cumulatively.</summary>
public sealed class LifecyclePhaseTests
{
    [Fact]
    public void EachPhaseIsTimedOnItsOwn()
    {
        var life = new Lifecycle(new ShutdownOptions(), FakeClock.Create());
        life.TryStart();
        life.Begin();

        // The phase timings run on a stopwatch: spend measurable real time in the first phase (bounded).
        var spent = Stopwatch.StartNew();
        SpinWait.SpinUntil(() => spent.ElapsedMilliseconds >= 30, TestEngine.Timeout);
        life.Phase("slow");
        life.Phase("quick");

        var phases = life.Phases();
        Assert.Equal(["slow", "quick"], phases.Select(p => p.Name));
        Assert.True(phases[0].DurationMs >= 25, $"the first phase took {phases[0].DurationMs} ms: the clock did not start at Begin");
        Assert.True(phases[1].DurationMs < phases[0].DurationMs, $"the second phase ({phases[1].DurationMs} ms) includes the first ({phases[0].DurationMs} ms)");
    }
}
