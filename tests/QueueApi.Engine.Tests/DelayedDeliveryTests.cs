using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests;

/// <summary>Delayed delivery through the whole engine: idle workers and a schedule on the fake clock.</summary>
public sealed class DelayedDeliveryTests
{
    [Fact]
    public async Task AnIdleWorkerRunsADelayedMessageWhenItComesDueAndNotATickBefore()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(DelegateHandler.Ok(), time: time);
        var queue = engine.Queues.Single();
        var due = time.GetUtcNow().AddSeconds(30);
        var m = queue.NewMessage(TestEngine.Json("{}"), dueAt: due);
        Assert.Equal(EnqueueStatus.Accepted, await queue.EnqueueAsync(m, TestContext.Current.CancellationToken));
        TestEngine.WaitFor(() => engine.Workers.All(w => w.State == WorkerState.Idle), "every worker to wait for work");

        time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));
        // The schedule moves due messages on the clock's own thread as it advances: nothing is due yet.
        Assert.Equal(MessageStatus.Scheduled, m.Status);
        Assert.Equal(1, queue.Counts().Scheduled);

        time.Advance(TimeSpan.FromTicks(1));

        TestEngine.WaitFor(() => m.Status == MessageStatus.Succeeded, "the due message to run");
        Assert.True(m.StartedAt >= due, $"started at {m.StartedAt:O}, due at {due:O}");
        Assert.True(queue.Counts().Balanced);
    }

    [Fact]
    public async Task AnImmediateStopDropsWhatIsStillScheduled()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(DelegateHandler.Ok(), time: time);
        var queue = engine.Queues.Single();
        var m = queue.NewMessage(TestEngine.Json("{}"), dueAt: time.GetUtcNow().AddMinutes(5));
        await queue.EnqueueAsync(m, TestContext.Current.CancellationToken);

        engine.RequestStop(Configuration.ShutdownMode.Immediate);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(MessageStatus.Dropped, m.Status);
        Assert.Equal(1, queue.Counts().Dropped);
        Assert.NotNull(report);
    }
}
