using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests;

/// <summary>What a stop request answers, and the report of the stop, on a fake clock.</summary>
public sealed class StopRequestTests
{
    [Fact]
    public async Task ADrainRequestAnswersWhatIsQueuedAndInFlightAndADeadlineOfDrainPlusGrace()
    {
        var time = FakeClock.Create();
        using var release = new ManualResetEventSlim();
        using var engine = TestEngine.Create(new DelegateHandler((_, token) =>
        {
            release.Wait(token);
            return ValueTask.CompletedTask;
        }), q => q.Workers = 1, root: o =>
        {
            o.Shutdown.DrainTimeout = TimeSpan.FromSeconds(20);
            o.Shutdown.CancelGrace = TimeSpan.FromSeconds(3);
        }, time: time);
        var running = engine.Enqueue();
        TestEngine.WaitFor(() => running.Status == MessageStatus.Processing, "the worker to take the first message");
        engine.Enqueue();
        engine.Enqueue();

        var ticket = engine.RequestStop(ShutdownMode.Drain);

        Assert.Equal(ShutdownMode.Drain, ticket.Mode);
        Assert.False(ticket.AlreadyStopping);
        Assert.Equal(2, ticket.Queued);
        Assert.Equal(1, ticket.InFlight);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(23), ticket.Deadline);

        // A second request changes nothing and says so: the first mode and deadline stand.
        var again = engine.RequestStop(ShutdownMode.Immediate);
        Assert.True(again.AlreadyStopping);
        Assert.Equal(ShutdownMode.Drain, again.Mode);
        Assert.Equal(ticket.Deadline, again.Deadline);

        var partial = engine.Report();
        Assert.NotNull(partial);
        Assert.False(partial.Complete);
        Assert.Null(partial.CompletedAt);
        Assert.Equal(ShutdownMode.Drain, partial.Mode);
        Assert.Equal(time.GetUtcNow(), partial.RequestedAt);

        release.Set();
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.True(report.Complete);
        Assert.Equal(time.GetUtcNow(), report.CompletedAt);
        Assert.Equal(StopReason.Requested, report.Reason);
        Assert.Equal(0, report.ExitCode);
        Assert.Equal(["stop accepting", "drain", "cancel in-flight", "join", "account"], report.Phases.Select(p => p.Name));
        Assert.All(report.Phases, p => Assert.True(p.DurationMs >= 0));
        Assert.Equal(3, report.Queues["q"].Succeeded);
        Assert.Equal(0, report.Stored["q"]);
        Assert.Same(report, engine.Report());
        Assert.Equal(EngineState.Stopped, engine.State);
    }

    [Fact]
    public async Task AnImmediateRequestsDeadlineIsTheCancelGraceAlone()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(DelegateHandler.Ok(), root: o =>
        {
            o.Shutdown.DrainTimeout = TimeSpan.FromSeconds(20);
            o.Shutdown.CancelGrace = TimeSpan.FromSeconds(3);
        }, time: time);

        var ticket = engine.RequestStop(ShutdownMode.Immediate, StopReason.HostStopping);

        Assert.Equal(ShutdownMode.Immediate, ticket.Mode);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(3), ticket.Deadline);
        Assert.True(engine.ShutdownToken.IsCancellationRequested);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(StopReason.HostStopping, report.Reason);
        Assert.Equal(["stop accepting", "cancel in-flight", "join", "account"], report.Phases.Select(p => p.Name));
    }

    [Fact]
    public async Task AStopOfAnEngineThatNeverStartedStillClosesTheBooks()
    {
        var options = new QueueApiOptions { Queues = { ["q"] = new QueueOptions { Workers = 1, Handler = "test" } } };
        using var engine = new QueueEngine(
            Microsoft.Extensions.Options.Options.Create(options), _ => DelegateHandler.Ok(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<QueueEngine>.Instance);

        var ticket = engine.RequestStop(ShutdownMode.Drain);

        Assert.False(ticket.AlreadyStopping);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.True(report.Complete);
        Assert.Equal(0, report.Queues["q"].Accepted);
    }

    [Fact]
    public void TheReportsJsonUsesCamelCaseNamesAndEnumText()
    {
        var report = new ShutdownReport(
            true, StopReason.WorkerStuck, ShutdownMode.Immediate, 4, DateTimeOffset.UnixEpoch, null,
            new FirstFailure("q-1", "stuck", "WorkerStuck", "late", "m1", DateTimeOffset.UnixEpoch),
            [new PhaseTiming("join", 1.5)], new Dictionary<string, Engine.Storage.QueueCounts>(), ["q-1"], new Dictionary<string, int> { ["q"] = 2 });

        var json = QueueEngine.ToJson(report);

        Assert.Contains("\"reason\":\"workerStuck\"", json, StringComparison.Ordinal);
        Assert.Contains("\"mode\":\"immediate\"", json, StringComparison.Ordinal);
        Assert.Contains("\"exitCode\":4", json, StringComparison.Ordinal);
        Assert.Contains("\"abandonedWorkers\":[\"q-1\"]", json, StringComparison.Ordinal);
        Assert.Contains("\"stored\":{\"q\":2}", json, StringComparison.Ordinal);
        Assert.Contains("{\"name\":\"join\",\"durationMs\":1.5}", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReportPathThatCannotBeWrittenDoesNotFailTheStop()
    {
        var path = Path.Combine(Path.GetTempPath(), $"queueapi-{Guid.NewGuid():N}", "missing-folder", "report.json");
        using var engine = TestEngine.Create(DelegateHandler.Ok(), root: o => o.Shutdown.ReportPath = path);
        engine.RequestStop(ShutdownMode.Drain);

        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.True(report.Complete);
        Assert.False(File.Exists(path));
    }
}
