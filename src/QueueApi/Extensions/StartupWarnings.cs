using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;

namespace QueueApi.Extensions;

/// <summary>
/// Says at start-up, as a warning, when the service runs with its guards down: admin actions open without a key
/// (Development) or fault injection on. A launch profile or a leftover setting must not leave them on silently.
/// </summary>
internal sealed partial class StartupWarnings(IHostEnvironment env, IOptions<QueueApiOptions> options, ILogger<StartupWarnings> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (env.IsDevelopment())
        {
            LogAdminOpen(logger, env.EnvironmentName);
        }

        if (options.Value.Chaos.Enabled)
        {
            LogChaosOn(logger, env.EnvironmentName);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin actions are open without a key ({Environment} environment): anyone who reaches this port can shut the service down, pause queues and crash workers. Run another environment to require QueueApi:AdminApiKey: dotnet run --project src/QueueApi --launch-profile production, or ASPNETCORE_ENVIRONMENT=Production with --no-launch-profile.")]
    private static partial void LogAdminOpen(ILogger logger, string environment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fault injection is on (QueueApi:Chaos:Enabled, {Environment} environment): POST /workers/{{id}}/crash and /hang end the service. Set QueueApi:Chaos:Enabled to false outside tests.")]
    private static partial void LogChaosOn(ILogger logger, string environment);
}
