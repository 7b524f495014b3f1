namespace QueueApi.Engine.Tests;

/// <summary>
/// Liveness does not rely on the fault signal alone: a worker thread that ends without one (its store closed
/// under it, as at the end of a drain, while the engine still runs) turns liveness off through Thread.IsAlive.
/// </summary>
public sealed class LivenessBackstopTests
{
    [Fact]
    public void WorkerThreadThatEndsWithoutAFaultSignalTurnsLivenessOff()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 1);
        var worker = Assert.Single(engine.Workers);
        Assert.True(engine.IsLive(out _));
        Assert.True(engine.TryGetQueue("q", out var queue));

        // The store stops accepting and is empty, so the worker's next claim answers "completed": it leaves its
        // loop normally, with no fault.
        queue!.Store.StopAccepting();
        Assert.True(worker.Thread.Join(TestEngine.Timeout), "the worker thread did not end");

        Assert.Null(engine.FirstFailure);
        Assert.Equal(EngineState.Running, engine.State);
        Assert.False(engine.IsLive(out var why));
        Assert.Equal($"worker {worker.Id} thread is not alive", why);
        Assert.False(engine.IsReady(out _));
    }
}
