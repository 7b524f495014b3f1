using Microsoft.Extensions.Logging;

namespace QueueApi.Engine.Workers;

/// <summary>What a worker logs, source-generated.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(Level = LogLevel.Critical, Message = "Worker {Worker} faulted with {ExceptionType}: {Reason} (the service winds down)")]
    public static partial void Faulted(ILogger logger, string worker, string exceptionType, string reason, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker} hangs on purpose (fault injection) and ignores its token.")]
    public static partial void Hanging(ILogger logger, string worker);
}
