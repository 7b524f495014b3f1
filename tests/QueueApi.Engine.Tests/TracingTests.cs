using System.Collections.Concurrent;
using System.Diagnostics;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Handlers;

namespace QueueApi.Engine.Tests;

/// <summary>One span per attempt, tagged after OpenTelemetry's messaging conventions and parented to the enqueuing request.</summary>
public sealed class TracingTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    /// <summary>Records the spans of one queue (the source is shared with other tests' engines, so spans are told apart by the queue's name).</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;

        public SpanRecorder(string queue)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name == MessageTracing.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a =>
                {
                    if (a.DisplayName == $"process {queue}")
                    {
                        Spans.Enqueue(a);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public ConcurrentQueue<Activity> Spans { get; } = new();

        public void Dispose() => _listener.Dispose();
    }

    private static QueueEngine Create(string queue, IMessageHandler handler) =>
        TestEngine.Create(handler, q => q.Workers = 1, root: o =>
        {
            o.Queues[queue] = o.Queues["q"];
            o.Queues.Remove("q");
        });

    [Fact]
    public async Task AnAttemptsSpanIsAConsumerSpanParentedToAndLinkedWithTheEnqueuingTrace()
    {
        using var spans = new SpanRecorder("traced-ok");
        using var engine = Create("traced-ok", DelegateHandler.Ok());
        var queue = engine.Queues.Single();
        var message = queue.NewMessage(TestEngine.Json("{}"), traceParent: TraceParent);
        Assert.Equal(Engine.Storage.EnqueueStatus.Accepted, await queue.EnqueueAsync(message, CancellationToken.None));
        TestEngine.WaitFor(() => !spans.Spans.IsEmpty, "the attempt's span to end");

        var span = Assert.Single(spans.Spans);
        Assert.Equal(ActivityKind.Consumer, span.Kind);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", span.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", span.ParentSpanId.ToHexString());
        var link = Assert.Single(span.Links);
        Assert.Equal("b7ad6b7169203331", link.Context.SpanId.ToHexString());
        Assert.Equal("queueapi", span.GetTagItem("messaging.system"));
        Assert.Equal("process", span.GetTagItem("messaging.operation.type"));
        Assert.Equal("process", span.GetTagItem("messaging.operation.name"));
        Assert.Equal("traced-ok", span.GetTagItem("messaging.destination.name"));
        Assert.Equal(message.Id, span.GetTagItem("messaging.message.id"));
        Assert.Equal(1, span.GetTagItem("queueapi.attempt"));
        Assert.Equal("traced-ok-1", span.GetTagItem("queueapi.worker.id"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", message.TraceId);
    }

    [Fact]
    public async Task AMessageWithoutATraceStartsANewTraceWithNoLink()
    {
        using var spans = new SpanRecorder("traced-root");
        using var engine = Create("traced-root", DelegateHandler.Ok());
        var message = engine.Queues.Single().NewMessage(TestEngine.Json("{}"));
        Assert.Equal(Engine.Storage.EnqueueStatus.Accepted, await engine.Queues.Single().EnqueueAsync(message, CancellationToken.None));
        TestEngine.WaitFor(() => !spans.Spans.IsEmpty, "the attempt's span to end");

        var span = Assert.Single(spans.Spans);
        Assert.Empty(span.Links);
        Assert.Equal(default, span.ParentSpanId);
        Assert.Null(message.TraceId);
    }

    [Fact]
    public async Task AFailedAttemptsSpanIsMarkedWithTheErrorAndItsType()
    {
        using var spans = new SpanRecorder("traced-fail");
        using var engine = Create("traced-fail", new DelegateHandler((_, _) => throw new PermanentMessageException("bad input")));
        var message = engine.Queues.Single().NewMessage(TestEngine.Json("{}"));
        Assert.Equal(Engine.Storage.EnqueueStatus.Accepted, await engine.Queues.Single().EnqueueAsync(message, CancellationToken.None));
        TestEngine.WaitFor(() => !spans.Spans.IsEmpty, "the attempt's span to end");

        var span = Assert.Single(spans.Spans);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("bad input", span.StatusDescription);
        Assert.Equal(typeof(PermanentMessageException).FullName, span.GetTagItem("error.type"));
    }

    [Fact]
    public void AFailedAttemptWithoutASpanIsNotAnError()
    {
        Assert.False(MessageTracing.Failed(null, new InvalidOperationException("boom")));
    }

    [Fact]
    public void OnlyATracedOrRecordedW3CRequestLeavesATraceParentOnItsMessage()
    {
        Assert.Null(MessageTracing.ParentOf(null));

        using (var untraced = Root("untraced", ActivityTraceFlags.None))
        {
            Assert.Null(MessageTracing.ParentOf(untraced));
        }

        using (var recorded = Root("recorded", ActivityTraceFlags.Recorded))
        {
            Assert.Equal(recorded.Id, MessageTracing.ParentOf(recorded));
        }

        Activity.Current = null;
        using (var continued = new Activity("continued").SetIdFormat(ActivityIdFormat.W3C).SetParentId(TraceParent).Start())
        {
            continued.ActivityTraceFlags = ActivityTraceFlags.None;
            Assert.Equal(continued.Id, MessageTracing.ParentOf(continued));
        }

        Activity.Current = null;
        using (var hierarchical = new Activity("old").SetIdFormat(ActivityIdFormat.Hierarchical).SetParentId("|abc.1.").Start())
        {
            Assert.Null(MessageTracing.ParentOf(hierarchical));
        }
    }

    /// <summary>A W3C activity with no parent (none current either) and the given flags.</summary>
    private static Activity Root(string name, ActivityTraceFlags flags)
    {
        Activity.Current = null;
        var activity = new Activity(name).SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.ActivityTraceFlags = flags;
        Assert.Null(activity.ParentId);
        return activity;
    }

    [Fact]
    public void TheTraceIdIsReadFromAWellFormedTraceParentOnly()
    {
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", MessageTracing.TraceIdOf(TraceParent));
        Assert.Null(MessageTracing.TraceIdOf(null));
        Assert.Null(MessageTracing.TraceIdOf(TraceParent[..54]));
        Assert.Null(MessageTracing.TraceIdOf(TraceParent + "0"));
    }
}
