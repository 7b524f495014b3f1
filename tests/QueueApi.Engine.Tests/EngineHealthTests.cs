using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;

namespace QueueApi.Engine.Tests;

/// <summary>Liveness and readiness, and the reason each gives, through the engine's life.</summary>
public sealed class EngineHealthTests
{
    [Fact]
    public void AnEngineNotYetStartedIsLiveButNotReady()
    {
        var options = new QueueApiOptions { Queues = { ["q"] = new QueueOptions { Workers = 1, Handler = "test" } } };
        using var engine = new QueueEngine(Options.Create(options), _ => DelegateHandler.Ok(), TimeProvider.System, NullLogger<QueueEngine>.Instance);

        Assert.True(engine.IsLive(out var live));
        Assert.Equal("engine created", live);
        Assert.False(engine.IsReady(out var ready));
        Assert.Equal("engine created: not accepting messages", ready);
        Assert.Null(engine.Report());
    }

    [Fact]
    public void ARunningEngineIsLiveAndReadyCountingItsWorkersAndQueues()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 3, root: o => o.Queues["other"] = new QueueOptions { Workers = 1, Handler = "test" });

        Assert.True(engine.IsLive(out var live));
        Assert.Equal("4 workers alive", live);
        Assert.True(engine.IsReady(out var ready));
        Assert.Equal("accepting messages on 2 queues", ready);
        Assert.Null(engine.Report());
    }

    [Fact]
    public async Task AStoppedEngineIsLiveButNotReady()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        engine.RequestStop(ShutdownMode.Drain);
        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.True(engine.IsLive(out var live));
        Assert.Equal("engine stopped", live);
        Assert.False(engine.IsReady(out var ready));
        Assert.Equal("engine stopping: not accepting messages", ready);
    }

    [Fact]
    public async Task ACrashedWorkerMakesTheEngineNeitherLiveNorReadyNamingTheWorkerAndItsFault()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 1);
        Assert.True(engine.CrashWorker("q-1"));
        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.False(engine.IsLive(out var live));
        Assert.Equal("worker q-1 faulted: Worker q-1 was asked to crash (fault injection).", live);
        Assert.False(engine.IsReady(out var ready));
        Assert.Equal("engine stopping: not accepting messages", ready);
        Assert.False(engine.CrashWorker("q-1")); // its thread has ended
        Assert.False(engine.CrashWorker("nobody"));
        Assert.False(engine.HangWorker("nobody"));
    }

    [Fact]
    public async Task AFaultReportedByAnotherEngineThreadIsTheFirstFailure()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 1);
        engine.ReportFault("queueapi scheduler", new InvalidOperationException("clock went backwards"));
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        var failure = Assert.IsType<FirstFailure>(engine.FirstFailure);
        Assert.Equal("queueapi scheduler", failure.WorkerId);
        Assert.Equal("faulted", failure.Kind);
        Assert.Equal(typeof(InvalidOperationException).FullName, failure.Exception);
        Assert.Equal("clock went backwards", failure.Message);
        Assert.Null(failure.MessageId);
        Assert.Equal(QueueEngine.ExitCodeWorkerFaulted, engine.ExitCode);
        Assert.Equal(3, report.ExitCode);
        Assert.Equal(StopReason.WorkerFaulted, report.Reason);
        Assert.Equal(ShutdownMode.Immediate, report.Mode);
        Assert.Same(failure, report.FirstFailure);
        Assert.False(engine.IsLive(out var live));
        Assert.Equal("worker queueapi scheduler faulted: clock went backwards", live);
    }
}
