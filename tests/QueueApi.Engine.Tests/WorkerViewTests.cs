using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests;

/// <summary>What a worker shows of itself: its counts, what it holds since when, its last activity and its fault.</summary>
public sealed class WorkerViewTests
{
    [Fact]
    public void AWorkerCountsItsSuccessesAndFailuresAndShowsWhenItLastFinished()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(new DelegateHandler((ctx, _) =>
            ctx.Payload.Length > 2 ? throw new PermanentMessageException("bad") : ValueTask.CompletedTask), q => q.Workers = 1, time: time);
        var worker = engine.Workers.Single();
        Assert.Equal(time.GetUtcNow(), worker.LastActivity);
        Assert.Equal("q", worker.QueueName);

        time.Advance(TimeSpan.FromMinutes(1));
        var ok = engine.Enqueue();
        var bad = engine.Enqueue("""{"x":1}""");
        var ok2 = engine.Enqueue();
        TestEngine.WaitFor(() => ok.IsFinished && bad.IsFinished && ok2.IsFinished, "the three messages to finish");
        TestEngine.WaitFor(() => worker.Succeeded + worker.Failed == 3, "the worker's counts");

        Assert.Equal(2, worker.Succeeded);
        Assert.Equal(1, worker.Failed);
        Assert.Equal(time.GetUtcNow(), worker.LastActivity);
        Assert.Null(worker.BusySince);
        Assert.Null(worker.CurrentMessage);
        Assert.Null(worker.Fault);
        Assert.False(worker.IsHung);
        Assert.True(engine.TryGetWorker("q-1", out var found));
        Assert.Same(worker, found);
        Assert.False(engine.TryGetWorker("q-2", out _));
    }

    [Fact]
    public void ABusyWorkerShowsItsMessageAndSinceWhen()
    {
        var time = FakeClock.Create();
        using var release = new ManualResetEventSlim();
        using var engine = TestEngine.Create(new DelegateHandler((_, token) =>
        {
            release.Wait(token);
            return ValueTask.CompletedTask;
        }), q => q.Workers = 1, time: time);
        var worker = engine.Workers.Single();

        var message = engine.Enqueue();
        TestEngine.WaitFor(() => worker.State == WorkerState.Busy, "the worker to take the message");

        Assert.Same(message, worker.CurrentMessage);
        Assert.Equal(message.StartedAt, worker.BusySince);
        Assert.Equal(time.GetUtcNow(), worker.BusySince);
        Assert.Equal(MessageStatus.Processing, message.Status);
        Assert.Equal("q-1", message.WorkerId);
        Assert.Equal(1, engine.Queues.Single().Counts().InFlight);
        release.Set();
        TestEngine.WaitFor(() => message.IsFinished && worker.BusySince is null, "the message to finish");
    }

    [Fact]
    public async Task ACrashedWorkersFaultNamesItsExceptionAndCarriesTheStack()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 1);
        var worker = engine.Workers.Single();

        Assert.True(engine.CrashWorker(worker.Id));
        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        var fault = Assert.IsType<WorkerFault>(worker.Fault);
        Assert.Equal("q-1", fault.WorkerId);
        Assert.Equal("QueueApi.Engine.Chaos.InjectedFaultException", fault.Type);
        Assert.Equal("Worker q-1 was asked to crash (fault injection).", fault.Message);
        Assert.Null(fault.MessageId);
        Assert.Contains("InjectedFaultException", fault.Detail, StringComparison.Ordinal);
        Assert.Contains(" at ", fault.Detail, StringComparison.Ordinal);
        Assert.Equal(WorkerState.Faulted, worker.State);
        Assert.False(worker.Thread.IsAlive);
    }
}
