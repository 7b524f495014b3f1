using QueueApi.Engine.Configuration;
using QueueApi.Engine.Supervision;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>Each phase of a wind-down is timed from the end of the one before (and the first from the start), not cumulatively.</summary>
public sealed class LifecyclePhaseTests
{
    [Fact]
    public void EachPhaseIsTimedOnItsOwnOnTheEnginesClock()
    {
        var clock = FakeClock.Create();
        var life = new Lifecycle(new ShutdownOptions(), clock);
        life.TryStart();
        clock.Advance(TimeSpan.FromSeconds(5)); // before the wind-down: counts in no phase
        life.Begin();

        clock.Advance(TimeSpan.FromMilliseconds(30));
        life.Phase("slow");
        clock.Advance(TimeSpan.FromMilliseconds(2));
        life.Phase("quick");
        life.Phase("instant");

        Assert.Equal([("slow", 30.0), ("quick", 2.0), ("instant", 0.0)], life.Phases().Select(p => (p.Name, p.DurationMs)));
    }
}
