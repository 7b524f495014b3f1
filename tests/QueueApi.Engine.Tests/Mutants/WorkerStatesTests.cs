using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>What a worker shows while it runs a retry, hangs or has stopped, and how it times and names a message's end.</summary>
public sealed class WorkerStatesTests
{
    [Fact]
    public void ARetryAttemptShowsTheMessageProcessingAndTheWorkerBusyAgain()
    {
        using var second = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var attempts = 0;
        using var engine = TestEngine.Create(new DelegateHandler((_, token) =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                throw new InvalidOperationException("first attempt fails");
            }

            second.Set();
            release.Wait(token);
            return ValueTask.CompletedTask;
        }), q => q.Workers = 1);
        var message = engine.Enqueue();
        var worker = engine.Workers.Single();

        Assert.True(second.Wait(TestEngine.Timeout, TestContext.Current.CancellationToken), "the second attempt to start");
        // Retrying during the backoff; Processing (and Busy) again once the retry attempt runs.
        Assert.Equal(MessageStatus.Processing, message.Status);
        Assert.Equal(WorkerState.Busy, worker.State);
        Assert.False(worker.IsHung);

        release.Set();
        TestEngine.WaitFor(() => message.Status == MessageStatus.Succeeded, "the retry to succeed");
    }

    [Fact]
    public void AHungWorkerShowsHungAndBusySinceTheHang()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 1);
        var worker = engine.Workers.Single();
        TestEngine.WaitFor(() => worker.State == WorkerState.Idle, "the worker to idle");
        Assert.False(worker.IsHung);

        Assert.True(engine.HangWorker(worker.Id));

        TestEngine.WaitFor(() => worker.IsHung, "the worker to show hung");
        Assert.NotNull(worker.BusySince);
    }

    [Fact]
    public async Task WorkersShowStoppedAfterADrain()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        engine.Enqueue();

        engine.RequestStop(ShutdownMode.Drain);
        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.All(engine.Workers, w => Assert.Equal(WorkerState.Stopped, w.State));
    }

    [Fact]
    public void AHandlersOwnCancellationIsAnOrdinaryFailureNotATimeout()
    {
        using var engine = TestEngine.Create(new DelegateHandler((_, _) => throw new OperationCanceledException("the handler gave up")), q =>
        {
            q.Workers = 1;
            q.MaxAttempts = 1;
        });
        var message = engine.Enqueue();

        TestEngine.WaitFor(() => message.Status == MessageStatus.DeadLettered, "the message to be dead-lettered");
        Assert.StartsWith(nameof(OperationCanceledException), message.Error);
    }

    [Fact]
    public void AMessageFinishesWhenItsHandlerReturnedNotWhenItStarted()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(new DelegateHandler((_, _) =>
        {
            time.Advance(TimeSpan.FromMilliseconds(400));
            return ValueTask.CompletedTask;
        }), q => q.Workers = 1, time: time);
        var message = engine.Enqueue();

        TestEngine.WaitFor(() => message.Status == MessageStatus.Succeeded, "the message to succeed");
        Assert.Equal(TimeSpan.FromMilliseconds(400), message.CompletedAt - message.StartedAt);
    }
}
