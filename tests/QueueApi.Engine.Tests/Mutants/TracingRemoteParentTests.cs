using System.Diagnostics;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>An attempt's span continues the enqueuing request's trace as a remote parent: it came from another process or request.</summary>
public sealed class TracingRemoteParentTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void TheParentOfAnAttemptsSpanIsMarkedRemote()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == MessageTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var message = new QueueMessage(new MessageKey(1, 2), "remote-parent", TestEngine.Json("{}"), DateTimeOffset.UnixEpoch) { TraceParent = TraceParent };

        using var span = MessageTracing.StartAttempt(message, "remote-parent", "remote-parent-1");

        Assert.NotNull(span);
        Assert.True(span.HasRemoteParent);
        Assert.Equal("b7ad6b7169203331", span.ParentSpanId.ToHexString());
    }
}
