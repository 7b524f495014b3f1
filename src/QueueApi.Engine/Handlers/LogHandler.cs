using System.Text;
using Microsoft.Extensions.Logging;

namespace QueueApi.Engine.Handlers;

/// <summary>The default handler: logs each payload and succeeds.</summary>
public sealed partial class LogHandler(ILogger<LogHandler> logger) : IMessageHandler
{
    public const string Name = "log";

    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            LogPayload(logger, context.Queue, context.Id, context.WorkerId, Encoding.UTF8.GetString(context.Payload.Span));
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {Id} on {Queue} handled by {Worker}: {Payload}")]
    private static partial void LogPayload(ILogger logger, string queue, string id, string worker, string payload);
}
