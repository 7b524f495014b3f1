using QueueApi.Engine.Messages;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests;

public sealed class PauseTests
{
    [Fact]
    public void PausedQueueAcceptsButProcessesNothingUntilResumed()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        var queue = engine.Queues.Single();

        queue.Pause();
        TestEngine.WaitFor(() => engine.Workers.All(w => w.State == WorkerState.Paused), "every worker to show paused");
        var messages = Enumerable.Range(0, 5).Select(_ => engine.Enqueue()).ToList();

        // Paused workers are blocked on the resume gate, so nothing can move; the books say so.
        Assert.All(messages, m => Assert.Equal(MessageStatus.Queued, m.Status));
        Assert.Equal(5, queue.Counts().Queued);
        Assert.True(engine.IsLive(out _));
        Assert.True(engine.IsReady(out _));

        queue.Resume();

        TestEngine.WaitFor(() => messages.All(m => m.Status == MessageStatus.Succeeded), "the messages to run after resume");
        Assert.False(queue.IsPaused);
    }
}
