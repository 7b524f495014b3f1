using System.Reflection;
using QueueApi.Engine.Chaos;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>A hang ends in a fault naming the worker, never in a worker that quietly carries on.</summary>
public sealed class FaultInjectionHangTests
{
    [Fact]
    public void AHangThatEndsThrowsNamingTheWorker()
    {
        var faults = new FaultInjection();
        // The gate is only ever opened by its bound (an hour); open it here so the end of the hang can be seen now.
        var gate = (ManualResetEventSlim)typeof(FaultInjection).GetField("_hangGate", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(faults)!;
        gate.Set();

        var ex = Assert.Throws<InjectedFaultException>(() => faults.Hang("q-7"));

        Assert.Equal($"Worker q-7 hung for {FaultInjection.HangBound} (fault injection).", ex.Message);
    }
}
