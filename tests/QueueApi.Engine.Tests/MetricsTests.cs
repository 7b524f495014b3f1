using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests;

/// <summary>The engine's instruments, read through a <see cref="MeterListener"/> bound to this test's own meter.</summary>
public sealed class MetricsTests
{
    /// <summary>Makes the engine's meter and listens to it alone (other tests' engines use the same meter name).</summary>
    private sealed class Recorder : IMeterFactory
    {
        private readonly MeterListener _listener = new();
        private Meter? _meter;

        public ConcurrentDictionary<string, Instrument> Instruments { get; } = new();
        public ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> Measurements { get; } = new();

        public Meter Create(MeterOptions options)
        {
            _meter = new Meter(options);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, _meter))
                {
                    Instruments[instrument.Name] = instrument;
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
            return _meter;
        }

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            Measurements.Enqueue((instrument.Name, value, copy));
        }

        /// <summary>The observable instruments' values now, by name and tags.</summary>
        public List<(string Name, double Value, Dictionary<string, object?> Tags)> Observe()
        {
            Measurements.Clear();
            _listener.RecordObservableInstruments();
            return [.. Measurements];
        }

        public void Dispose() => _listener.Dispose();
    }

    private static QueueEngine Create(Recorder recorder, IMessageHandler handler, Action<QueueOptions>? queue = null) =>
        TestEngine.Create(handler, queue, root: null, time: null, metrics: e => new EngineMetrics(recorder, () => e.Queues));

    private static double Value(List<(string Name, double Value, Dictionary<string, object?> Tags)> seen, string name, string? outcome = null) =>
        Assert.Single(seen, m => m.Name == name && (outcome is null || Equals(m.Tags["queueapi.outcome"], outcome))
            && Equals(m.Tags["messaging.destination.name"], "q")).Value;

    [Fact]
    public void TheBooksOfEveryQueueAreObservedWithTheQueuesName()
    {
        using var recorder = new Recorder();
        using var engine = Create(recorder, new DelegateHandler((ctx, _) =>
            ctx.Payload.Length > 2 ? throw new PermanentMessageException("bad") : ValueTask.CompletedTask), q => q.Workers = 3);
        var ok1 = engine.Enqueue();
        var ok2 = engine.Enqueue();
        var bad = engine.Enqueue("""{"x":1}""");
        // A message is finished a moment before its worker counts itself idle: wait for the idle count too.
        TestEngine.WaitFor(() => ok1.IsFinished && ok2.IsFinished && bad.IsFinished && Value(recorder.Observe(), "queueapi.workers.busy") == 0,
            "the three messages to finish and their workers to be idle");

        var seen = recorder.Observe();
        Assert.Equal(3, Value(seen, "messaging.client.sent.messages"));
        Assert.Equal(3, Value(seen, "messaging.client.consumed.messages"));
        Assert.Equal(2, Value(seen, "queueapi.messages.completed", "succeeded"));
        Assert.Equal(1, Value(seen, "queueapi.messages.completed", "failed"));
        Assert.Equal(0, Value(seen, "queueapi.messages.completed", "dead_lettered"));
        Assert.Equal(0, Value(seen, "queueapi.messages.completed", "dropped"));
        Assert.Equal(0, Value(seen, "queueapi.queue.depth"));
        Assert.Equal(0, Value(seen, "queueapi.queue.scheduled"));
        Assert.Equal(3, Value(seen, "queueapi.workers.alive"));
        Assert.Equal(0, Value(seen, "queueapi.workers.busy"));
        // No rate limit on the queue: its instruments report nothing for it.
        Assert.DoesNotContain(seen, m => m.Name.StartsWith("queueapi.ratelimit.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WaitingScheduledDeadLetteredAndBusyMessagesAreObserved()
    {
        using var recorder = new Recorder();
        using var release = new ManualResetEventSlim();
        using var engine = Create(recorder, new DelegateHandler((ctx, token) =>
        {
            if (ctx.Payload.Length > 2)
            {
                throw new InvalidOperationException("poison");
            }

            release.Wait(token);
            return ValueTask.CompletedTask;
        }), q =>
        {
            q.Workers = 1;
            q.MaxAttempts = 1;
        });
        var queue = engine.Queues.Single();
        var poison = engine.Enqueue("""{"x":1}""");
        TestEngine.WaitFor(() => poison.IsFinished, "the poison message to be dead-lettered");
        var running = engine.Enqueue();
        TestEngine.WaitFor(() => running.Status == MessageStatus.Processing, "the worker to take a message");
        engine.Enqueue();
        engine.Enqueue();
        var later = queue.NewMessage(TestEngine.Json("{}"), dueAt: queue.Now.AddHours(1));
        Assert.Equal(Engine.Storage.EnqueueStatus.Accepted, await queue.EnqueueAsync(later, CancellationToken.None));

        var seen = recorder.Observe();
        Assert.Equal(5, Value(seen, "messaging.client.sent.messages"));
        Assert.Equal(2, Value(seen, "messaging.client.consumed.messages")); // taken by a worker: not the queued, not the scheduled one
        Assert.Equal(1, Value(seen, "queueapi.messages.completed", "dead_lettered"));
        Assert.Equal(2, Value(seen, "queueapi.queue.depth"));
        Assert.Equal(1, Value(seen, "queueapi.queue.scheduled"));
        Assert.Equal(1, Value(seen, "queueapi.workers.busy"));
        release.Set();
    }

    [Fact]
    public void ARateLimitedQueueReportsItsBucket()
    {
        using var recorder = new Recorder();
        using var engine = Create(recorder, DelegateHandler.Ok(), q => q.RateLimit = new RateLimitOptions { PermitsPerSecond = 0.01, Burst = 3 });
        var first = engine.Enqueue();
        TestEngine.WaitFor(() => first.IsFinished, "the first message to finish");

        var seen = recorder.Observe();
        Assert.Equal(2, Value(seen, "queueapi.ratelimit.permits"));
        Assert.Equal(0, Value(seen, "queueapi.ratelimit.waiting"));
        Assert.Equal(0, Value(seen, "queueapi.ratelimit.delayed"));
    }

    [Fact]
    public void EachProcessedMessageRecordsItsDurationAndAFailureItsOutcome()
    {
        using var recorder = new Recorder();
        using var engine = Create(recorder, new DelegateHandler((ctx, _) =>
            ctx.Payload.Length > 2 ? throw new PermanentMessageException("bad") : ValueTask.CompletedTask), q => q.Workers = 1);
        Assert.True(engine.Metrics.Enabled);
        var ok = engine.Enqueue();
        var bad = engine.Enqueue("""{"x":1}""");
        TestEngine.WaitFor(() => ok.IsFinished && bad.IsFinished, "both messages to finish");
        TestEngine.WaitFor(() => recorder.Measurements.Count(m => m.Name == "messaging.process.duration") == 2, "two durations");

        var durations = recorder.Measurements.Where(m => m.Name == "messaging.process.duration").ToList();
        Assert.All(durations, d =>
        {
            Assert.True(d.Value >= 0);
            Assert.Equal("queueapi", d.Tags["messaging.system"]);
            Assert.Equal("q", d.Tags["messaging.destination.name"]);
        });
        Assert.Single(durations, d => !d.Tags.ContainsKey("error.type"));
        Assert.Single(durations, d => Equals(d.Tags.GetValueOrDefault("error.type"), "Failed"));
    }

    [Fact]
    public void EveryInstrumentHasItsUnitAndADescription()
    {
        using var recorder = new Recorder();
        using var engine = Create(recorder, DelegateHandler.Ok());

        var expected = new Dictionary<string, string>
        {
            ["messaging.process.duration"] = "s",
            ["messaging.client.sent.messages"] = "{message}",
            ["messaging.client.consumed.messages"] = "{message}",
            ["queueapi.messages.completed"] = "{message}",
            ["queueapi.queue.depth"] = "{message}",
            ["queueapi.queue.scheduled"] = "{message}",
            ["queueapi.workers.alive"] = "{thread}",
            ["queueapi.workers.busy"] = "{thread}",
            ["queueapi.ratelimit.permits"] = "{permit}",
            ["queueapi.ratelimit.waiting"] = "{thread}",
            ["queueapi.ratelimit.delayed"] = "{message}",
        };
        Assert.Equal(expected.Keys.Order(), recorder.Instruments.Keys.Order());
        Assert.All(recorder.Instruments.Values, i =>
        {
            Assert.Equal(expected[i.Name], i.Unit);
            Assert.False(string.IsNullOrWhiteSpace(i.Description));
            Assert.Equal(EngineMetrics.MeterName, i.Meter.Name);
        });
        var histogram = (Histogram<double>)recorder.Instruments["messaging.process.duration"];
        Assert.Equal([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30], histogram.Advice!.HistogramBucketBoundaries!);
    }

    [Fact]
    public void WithoutAListenerNothingIsRecorded()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        Assert.False(engine.Metrics.Enabled);
        var message = engine.Enqueue();
        TestEngine.WaitFor(() => message.IsFinished, "the message to finish");
    }
}
