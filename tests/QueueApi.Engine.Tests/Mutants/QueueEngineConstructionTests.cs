using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The engine's argument checks, its queue order, and what a stop request counts across several queues.</summary>
public sealed class QueueEngineConstructionTests
{
    [Fact]
    public void NullOptionsOrHandlersAreRejectedByName()
    {
        var options = Options.Create(new QueueApiOptions { Queues = { ["q"] = new QueueOptions { Handler = "test" } } });

        Assert.Throws<ArgumentNullException>("options", () => new QueueEngine(null!, _ => DelegateHandler.Ok(), TimeProvider.System, NullLogger<QueueEngine>.Instance));
        Assert.Throws<ArgumentNullException>("handlers", () => new QueueEngine(options, null!, TimeProvider.System, NullLogger<QueueEngine>.Instance));
    }

    [Fact]
    public void ReportFaultRejectsANullException()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        Assert.Throws<ArgumentNullException>("exception", () => engine.ReportFault("scheduler", null!));
    }

    [Fact]
    public void QueuesAreListedInOrdinalNameOrderWhateverTheConfigurationOrder()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), root: o =>
        {
            o.Queues["b"] = new QueueOptions { Handler = "test", Workers = 1 };
            o.Queues["a"] = new QueueOptions { Handler = "test", Workers = 1 };
        });

        Assert.Equal(["a", "b", "q"], engine.Queues.Select(q => q.Name));
    }

    [Fact]
    public void AStopRequestCountsQueuedMessagesOverEveryQueue()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), root: o => o.Queues["a"] = new QueueOptions { Handler = "test", Workers = 1 });
        foreach (var queue in engine.Queues)
        {
            queue.Pause();
        }

        Assert.Equal(EnqueueStatus.Accepted, engine.EnqueueBatch("a", [TestEngine.Json("{}"), TestEngine.Json("{}")], out _));
        Assert.Equal(EnqueueStatus.Accepted, engine.EnqueueBatch("q", [TestEngine.Json("{}"), TestEngine.Json("{}"), TestEngine.Json("{}")], out _));

        var accepted = engine.RequestStop(ShutdownMode.Immediate);

        Assert.Equal(5, accepted.Queued);
        Assert.Equal(0, accepted.InFlight);
    }

    [Fact]
    public void AStopRequestCountsRunningAndRetryingMessagesOverEveryQueueAsInFlight()
    {
        using var release = new ManualResetEventSlim();
        // Queue "q" holds its message in the handler; queue "a" fails its first attempt and waits out an hour's backoff.
        var handler = new DelegateHandler((context, token) =>
        {
            if (context.Queue == "a")
            {
                throw new InvalidOperationException("fails once, then backs off");
            }

            release.Wait(token);
            return ValueTask.CompletedTask;
        });
        using var engine = TestEngine.Create(handler, q => q.Workers = 1, root: o => o.Queues["a"] = new QueueOptions
        {
            Handler = "test",
            Workers = 1,
            MaxAttempts = 5,
            BaseDelay = TimeSpan.FromHours(1),
            MaxDelay = TimeSpan.FromHours(1),
        });
        Assert.Equal(EnqueueStatus.Accepted, engine.Enqueue("a", TestEngine.Json("{}"), out var retrying));
        var running = engine.Enqueue();
        // The queues' books, which the stop request reads, not only the messages' status.
        TestEngine.WaitFor(
            () => retrying!.Status == MessageStatus.Retrying && running.Status == MessageStatus.Processing
                && engine.Queues.Sum(q => q.Counts() is var c ? c.InFlight + c.Retrying : 0) == 2,
            "one message retrying and one running, in the books");

        var accepted = engine.RequestStop(ShutdownMode.Immediate);
        release.Set();

        Assert.Equal(0, accepted.Queued);
        Assert.Equal(2, accepted.InFlight);
    }
}
