using Microsoft.Extensions.Logging;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;

namespace QueueApi.Engine.Supervision;

// The supervisor's log lines, source-generated (LoggerMessage), kept apart from its logic.
internal sealed partial class Supervisor
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Stop requested: mode {Mode}, reason {Reason}.")]
    private static partial void LogStopRequested(ILogger logger, ShutdownMode mode, StopReason reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Worker {Worker} {Kind} ({Exception}: {Reason}): stopping every worker and the host.")]
    private static partial void LogWindingDown(ILogger logger, string worker, string kind, string exception, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Worker {Worker} is stuck on {Message}: it ran past {Limit} and ignored its cancelled token for {Grace}.")]
    private static partial void LogStuck(ILogger logger, string worker, string message, TimeSpan limit, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {Count} queued messages of {Queue}: {Reason}.")]
    private static partial void LogDropped(ILogger logger, int count, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kept {Count} queued messages of {Queue} stored for the next start.")]
    private static partial void LogKept(ILogger logger, int count, string queue);

    [LoggerMessage(Level = LogLevel.Error, Message = "Worker {Worker} did not stop in time and was abandoned (message {Message}).")]
    private static partial void LogAbandoned(ILogger logger, string worker, string? message);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The supervisor failed; every worker is cancelled.")]
    private static partial void LogSupervisorFailed(ILogger logger, Exception ex);
}
