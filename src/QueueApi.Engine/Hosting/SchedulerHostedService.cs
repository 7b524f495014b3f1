using QueueApi.Engine.Scheduling;
using Microsoft.Extensions.Hosting;

namespace QueueApi.Engine.Hosting;

/// <summary>
/// Runs the scheduler thread while the engine runs: starts after the engine (registered after it), and stops before
/// the engine drains (hosted services stop in reverse order), so no schedule enqueues into a stopping engine.
/// </summary>
public sealed class SchedulerHostedService(ScheduleManager schedules) : IHostedLifecycleService
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(2);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await schedules.SyncConfigurationAsync(cancellationToken).ConfigureAwait(false);
        schedules.Scheduler.Start();
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        schedules.Scheduler.Stop(JoinTimeout);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
