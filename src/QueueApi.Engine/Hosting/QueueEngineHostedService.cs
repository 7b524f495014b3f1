using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace QueueApi.Engine.Hosting;

/// <summary>
/// Ties the engine to the host: starts it, turns a dead worker into a host stop with a non-zero exit code,
/// and drains in <see cref="StoppingAsync"/>, before the web server stops, so the report stays reachable.
/// </summary>
public sealed partial class QueueEngineHostedService(
    QueueEngine engine,
    IHostStopper host,
    ILogger<QueueEngineHostedService> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        engine.FatalStop += OnFatalStop;
        engine.Start();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        engine.RequestStop(engine.Options.Shutdown.DefaultMode, Diagnostics.StopReason.HostStopping);
        try
        {
            // Bounded twice: by the engine's own deadlines and by the host's shutdown timeout.
            await engine.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogHostTimeout(logger);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        SetExitCode();
        return Task.CompletedTask;
    }

    private void OnFatalStop(QueueEngine e)
    {
        SetExitCode();
        host.StopHost();
    }

    private void SetExitCode()
    {
        if (engine.ExitCode != 0)
        {
            Environment.ExitCode = engine.ExitCode;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The host's shutdown timeout passed before the queue engine finished stopping.")]
    private static partial void LogHostTimeout(ILogger logger);
}
