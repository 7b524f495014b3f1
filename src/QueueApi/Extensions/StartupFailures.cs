using Microsoft.Extensions.Options;
using QueueApi.Storage;
using QueueApi.Engine.Storage;

namespace QueueApi.Extensions;

/// <summary>
/// Start-up failures an operator can fix (a bad setting, a port in use) end in one line naming the cause and a
/// documented exit code, not a stack trace: the host's own "Hosting failed to start" error, which carries the
/// trace, is held back while the service starts unless <c>Logging:LogLevel:Microsoft.Extensions.Hosting</c> asks
/// for Debug or Trace.
/// </summary>
internal static class StartupFailures
{
    /// <summary>
    /// Invalid configuration (the message names each bad key), or a database file that cannot be used (locked by
    /// another process, corrupt, from a newer version; the message names the file).
    /// </summary>
    public const int ExitCodeInvalidConfiguration = 2;

    /// <summary>The server could not listen on a configured address (in use, or not allowed).</summary>
    public const int ExitCodeCannotListen = 5;

    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>Holds back the host's start-up error until the service has started.</summary>
    public static WebApplicationBuilder AddStartupFailureReporting(this WebApplicationBuilder builder)
    {
        var asked = builder.Configuration["Logging:LogLevel:Microsoft.Extensions.Hosting"];
        if (Enum.TryParse<LogLevel>(asked, ignoreCase: true, out var level) && level <= LogLevel.Debug)
        {
            return builder;
        }

        var started = new StartedFlag();
        builder.Services.AddSingleton(started);
        builder.Services.AddHostedService<StartedFlag.Setter>();
        // Warnings and above as usual; errors only once started (a failure before then is reported by Program).
        builder.Logging.AddFilter(HostCategory, l => l >= LogLevel.Warning && (l < LogLevel.Error || started.Value));
        return builder;
    }

    /// <summary>The exit code for a start-up failure an operator can fix, or null for anything else (rethrown).</summary>
    public static int? ExitCodeFor(Exception ex) => ex switch
    {
        _ when StorageRefusal.Find(ex) is not null => ExitCodeInvalidConfiguration,
        OptionsValidationException => ExitCodeInvalidConfiguration,
        // The configured store cannot be opened: a database that cannot be reached, a schema from a newer version.
        StorageUnavailableException => ExitCodeInvalidConfiguration,
        IOException when ex.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal) => ExitCodeCannotListen,
        _ => null,
    };

    /// <summary>A short message for the operator: the cause and what to do.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        // Locked, corrupt or newer: one line naming the file; the file is left untouched.
        _ when StorageRefusal.Find(ex) is { } refusal => $"QueueApi cannot start: {refusal.Message}",
        OptionsValidationException o =>
            $"QueueApi cannot start: invalid configuration.{Environment.NewLine}  {string.Join($"{Environment.NewLine}  ", o.Failures)}",
        StorageUnavailableException => $"QueueApi cannot start: {ex.Message}",
        _ =>
            $"QueueApi cannot start: {ex.Message}{Environment.NewLine}  Stop what listens there, or choose another address: --urls http://localhost:5081 (or ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS).",
    };

    /// <summary>Set once every hosted service, the web server included, has started.</summary>
    internal sealed class StartedFlag
    {
        private volatile bool _value;

        public bool Value => _value;

        /// <summary>Sets the flag from the host's ApplicationStarted, which fires only after a successful start.</summary>
        internal sealed class Setter(StartedFlag flag, IHostApplicationLifetime lifetime) : IHostedService
        {
            public Task StartAsync(CancellationToken cancellationToken)
            {
                lifetime.ApplicationStarted.Register(() => flag._value = true);
                return Task.CompletedTask;
            }

            public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }
    }
}
