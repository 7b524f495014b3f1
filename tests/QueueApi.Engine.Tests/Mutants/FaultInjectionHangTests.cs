using QueueApi.Engine.Chaos;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>A hang ends in a fault naming the worker, never in a worker that quietly carries on.</summary>
public sealed class FaultInjectionHangTests
{
    [Fact]
    public void AHangThatEndsThrowsNamingTheWorker()
    {
        // The service's hang lasts an hour; a bound of zero lets the end of the hang be seen now.
        var faults = new FaultInjection(TimeSpan.Zero);

        var ex = Assert.Throws<InjectedFaultException>(() => faults.Hang("q-7"));

        Assert.Equal($"Worker q-7 hung for {TimeSpan.Zero} (fault injection).", ex.Message);
    }

    [Fact]
    public void TheServicesHangLastsAnHour() => Assert.Equal(TimeSpan.FromHours(1), FaultInjection.HangBound);
}
