using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Hosting;

namespace QueueApi.Engine.Tests;

/// <summary>The engine under a host: started by it, drained when it stops, and stopping it (non-zero) when a worker dies.</summary>
public sealed class HostingTests
{
    private sealed class Stopper : IHostStopper
    {
        public int Stops;

        public void StopHost() => Interlocked.Increment(ref Stops);
    }

    private static QueueEngine NotStarted(ShutdownMode mode = ShutdownMode.Drain)
    {
        var options = new QueueApiOptions { Queues = { ["q"] = new QueueOptions { Workers = 1, Handler = "test" } } };
        options.Shutdown.DefaultMode = mode;
        return new QueueEngine(Options.Create(options), _ => DelegateHandler.Ok(), TimeProvider.System, NullLogger<QueueEngine>.Instance);
    }

    [Fact]
    public async Task TheHostStartsTheEngineAndItsStopDrainsWithTheConfiguredMode()
    {
        using var engine = NotStarted(ShutdownMode.Immediate);
        var service = new QueueEngineHostedService(engine, new Stopper(), NullLogger<QueueEngineHostedService>.Instance);
        var token = TestContext.Current.CancellationToken;

        await service.StartingAsync(token);
        Assert.Equal(EngineState.Created, engine.State);
        await service.StartAsync(token);
        Assert.Equal(EngineState.Running, engine.State);
        await service.StartedAsync(token);

        await service.StoppingAsync(token);

        Assert.True(engine.Completion.IsCompletedSuccessfully);
        var report = await engine.Completion;
        Assert.Equal(StopReason.HostStopping, report.Reason);
        Assert.Equal(ShutdownMode.Immediate, report.Mode);
        await service.StopAsync(token);
        await service.StoppedAsync(token);
    }

    [Fact]
    public async Task AHostWhoseShutdownTimeoutPassesFirstStillStopsCleanly()
    {
        using var engine = NotStarted();
        var service = new QueueEngineHostedService(engine, new Stopper(), NullLogger<QueueEngineHostedService>.Instance);
        await service.StartAsync(TestContext.Current.CancellationToken);

        // The host's own timeout has passed already: the wait ends at once, without throwing.
        await service.StoppingAsync(new CancellationToken(canceled: true));

        Assert.True(engine.RequestStop(ShutdownMode.Drain).AlreadyStopping);
    }

    [Fact]
    public async Task AWorkerThatDiesStopsTheHostWithTheEnginesExitCode()
    {
        var before = Environment.ExitCode;
        try
        {
            using var engine = NotStarted();
            var stopper = new Stopper();
            var service = new QueueEngineHostedService(engine, stopper, NullLogger<QueueEngineHostedService>.Instance);
            await service.StartAsync(TestContext.Current.CancellationToken);

            Assert.True(engine.CrashWorker("q-1"));
            await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

            Assert.Equal(1, stopper.Stops);
            Assert.Equal(QueueEngine.ExitCodeWorkerFaulted, Environment.ExitCode);
            Environment.ExitCode = 0;
            await service.StoppedAsync(TestContext.Current.CancellationToken);
            Assert.Equal(QueueEngine.ExitCodeWorkerFaulted, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = before;
        }
    }

    [Fact]
    public async Task ACleanStopLeavesTheProcessExitCodeAlone()
    {
        var before = Environment.ExitCode;
        try
        {
            Environment.ExitCode = 42;
            using var engine = NotStarted();
            var service = new QueueEngineHostedService(engine, new Stopper(), NullLogger<QueueEngineHostedService>.Instance);
            await service.StartAsync(TestContext.Current.CancellationToken);
            await service.StoppingAsync(TestContext.Current.CancellationToken);
            await service.StoppedAsync(TestContext.Current.CancellationToken);

            Assert.Equal(42, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = before;
        }
    }
}
