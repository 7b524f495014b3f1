using System.Diagnostics;
using System.Diagnostics.Metrics;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Diagnostics;

/// <summary>
/// The engine's instruments, named after OpenTelemetry's messaging conventions where they apply.
/// Counts are observed from the queues' books, so the hot path pays only for the duration histogram.
/// </summary>
public sealed class EngineMetrics : IDisposable
{
    public const string MeterName = "QueueApi";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;

    public EngineMetrics(IMeterFactory meterFactory, Func<IEnumerable<Queues.WorkQueue>> queues)
    {
        // Stryker disable once Statement : meterFactory.Create(name) is an extension that throws the same ArgumentNullException for a null factory.
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _duration = _meter.CreateHistogram<double>(
            "messaging.process.duration", "s", "Duration of processing one message, all attempts included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] });

        _meter.CreateObservableCounter("messaging.client.sent.messages", () => Each(queues(), q => q.Counts().Accepted), "{message}", "Messages accepted into a queue.");
        _meter.CreateObservableCounter("messaging.client.consumed.messages", () => Each(queues(), q => q.Counts() is var c ? c.Accepted - c.Queued - c.Scheduled - c.Dropped : 0), "{message}", "Messages taken by a worker.");
        _meter.CreateObservableCounter("queueapi.messages.completed", () => Outcomes(queues()), "{message}", "Messages that reached a final state, by outcome.");
        _meter.CreateObservableUpDownCounter("queueapi.queue.depth", () => Each(queues(), q => (long)q.Store.QueuedCount), "{message}", "Messages waiting for a worker.");
        _meter.CreateObservableUpDownCounter("queueapi.queue.scheduled", () => Each(queues(), q => (long)q.Counts().Scheduled), "{message}", "Messages waiting for their due time.");
        _meter.CreateObservableUpDownCounter("queueapi.workers.alive", () => Each(queues(), q => (long)q.Workers.Count(w => w.Thread.IsAlive)), "{thread}", "Worker threads alive.");
        _meter.CreateObservableUpDownCounter("queueapi.workers.busy", () => Each(queues(), q => (long)q.Workers.Count(w => w.State is WorkerState.Busy or WorkerState.Retrying)), "{thread}", "Worker threads processing a message.");
        _meter.CreateObservableUpDownCounter("queueapi.ratelimit.permits", () => Limited(queues(), s => s.AvailablePermits), "{permit}", "Permits in a rate-limited queue's bucket: messages that could start at once.");
        _meter.CreateObservableUpDownCounter("queueapi.ratelimit.waiting", () => Limited(queues(), s => s.WaitingWorkers), "{thread}", "Workers holding a message until the queue's rate limit lets it start.");
        _meter.CreateObservableCounter("queueapi.ratelimit.delayed", () => Limited(queues(), s => s.DelayedStarts), "{message}", "Message starts that waited for the queue's rate limit.");
    }

    /// <summary>True while something listens to the duration histogram (an exporter, dotnet-counters).</summary>
    internal bool Enabled => _duration.Enabled;

    internal void RecordProcessed(string queue, MessageStatus outcome, TimeSpan elapsed)
    {
        if (!_duration.Enabled)
        {
            // Stryker disable once Statement : Record on a histogram nobody listens to is a no-op; the early return only saves building the tags.
            return;
        }

        var tags = new TagList { { "messaging.system", "queueapi" }, { "messaging.destination.name", queue } };
        if (outcome != MessageStatus.Succeeded)
        {
            tags.Add("error.type", outcome.ToString());
        }

        _duration.Record(elapsed.TotalSeconds, tags);
    }

    private static IEnumerable<Measurement<long>> Each(IEnumerable<Queues.WorkQueue> queues, Func<Queues.WorkQueue, long> value) =>
        queues.Select(q => new Measurement<long>(value(q), Destination(q.Name)));

    private static IEnumerable<Measurement<long>> Limited(IEnumerable<Queues.WorkQueue> queues, Func<Queues.RateLimitState, long> value) =>
        queues.Select(q => (q.Name, Limit: q.RateLimit)).Where(q => q.Limit is not null).Select(q => new Measurement<long>(value(q.Limit!), Destination(q.Name)));

    private static IEnumerable<Measurement<long>> Outcomes(IEnumerable<Queues.WorkQueue> queues)
    {
        foreach (var q in queues)
        {
            var c = q.Counts();
            yield return new(c.Succeeded, Destination(q.Name), Outcome("succeeded"));
            yield return new(c.Failed, Destination(q.Name), Outcome("failed"));
            yield return new(c.DeadLettered, Destination(q.Name), Outcome("dead_lettered"));
            yield return new(c.Dropped, Destination(q.Name), Outcome("dropped"));
        }
    }

    private static KeyValuePair<string, object?> Destination(string queue) => new("messaging.destination.name", queue);

    private static KeyValuePair<string, object?> Outcome(string outcome) => new("queueapi.outcome", outcome);

    public void Dispose() => _meter.Dispose();
}
