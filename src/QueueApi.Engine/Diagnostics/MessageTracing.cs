using System.Diagnostics;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Diagnostics;

/// <summary>
/// Traces: one <see cref="Activity"/> per attempt from the <c>QueueApi</c> source, kind Consumer, named and tagged
/// after OpenTelemetry's messaging conventions, parented to (and linked with) the context of the request that
/// enqueued the message. Costs one check per attempt while nothing listens.
/// </summary>
public static class MessageTracing
{
    public const string SourceName = "QueueApi";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The W3C <c>traceparent</c> to keep with a message enqueued under <paramref name="current"/>: only when the
    /// request continued a caller's trace or is being recorded, so untraced traffic keeps no string per message.
    /// </summary>
    public static string? ParentOf(Activity? current) =>
        current is { IdFormat: ActivityIdFormat.W3C } a && (a.ParentId is not null || a.Recorded) ? a.Id : null;

    /// <summary>The trace id inside a W3C traceparent (<c>00-TRACEID-SPANID-FLAGS</c>).</summary>
    public static string? TraceIdOf(string? traceParent) => traceParent is { Length: 55 } ? traceParent.Substring(3, 32) : null;

    /// <summary>The span of one attempt, or null while no listener samples it; becomes <see cref="Activity.Current"/>.</summary>
    internal static Activity? StartAttempt(QueueMessage message, string queue, string workerId)
    {
        // Stryker disable once Block : with no listener StartActivity returns null anyway; the early return only skips parsing the traceparent.
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(message.TraceParent, null, isRemote: true, out var parent);
        ActivityLink[]? links = parent == default ? null : [new ActivityLink(parent)];
        var span = Source.StartActivity($"process {queue}", ActivityKind.Consumer, parent, links: links);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("messaging.system", "queueapi");
            span.SetTag("messaging.operation.type", "process");
            span.SetTag("messaging.operation.name", "process");
            span.SetTag("messaging.destination.name", queue);
            span.SetTag("messaging.message.id", message.Id);
            span.SetTag("queueapi.attempt", message.Attempts);
            span.SetTag("queueapi.worker.id", workerId);
        }

        return span;
    }

    /// <summary>Marks the attempt's span failed; returns false so it can sit in an exception filter that catches nothing.</summary>
    internal static bool Failed(Activity? span, Exception ex)
    {
        if (span is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, ex.Message);
            span.SetTag("error.type", ex.GetType().FullName);
        }

        return false;
    }
}
