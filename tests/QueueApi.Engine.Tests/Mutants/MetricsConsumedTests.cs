using System.Diagnostics.Metrics;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>Messages counted as consumed are the ones a worker took: not those still waiting, nor those cancelled before a worker came.</summary>
public sealed class MetricsConsumedTests
{
    /// <summary>Makes the engine's meter and reads its observable counters (other tests' engines use the same meter name).</summary>
    private sealed class Recorder : IMeterFactory
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Name, long Value)> _seen = [];
        private Meter? _meter;

        public Meter Create(MeterOptions options)
        {
            _meter = new Meter(options);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, _meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, _, _) => _seen.Add((i.Name, v)));
            _listener.Start();
            return _meter;
        }

        public long Observe(string name)
        {
            lock (_seen)
            {
                _seen.Clear();
                _listener.RecordObservableInstruments();
                return Assert.Single(_seen, m => m.Name == name).Value;
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task ACancelledMessageIsNotCountedAsConsumed()
    {
        using var recorder = new Recorder();
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 1, metrics: e => new EngineMetrics(recorder, () => e.Queues));
        var queue = engine.Queues.Single();
        queue.Pause();
        TestEngine.WaitFor(() => engine.Workers.All(w => w.State == WorkerState.Paused), "the worker to show paused");
        engine.Enqueue();
        var cancelled = engine.Enqueue();

        Assert.Equal(CancelResult.Done, await queue.CancelAsync(cancelled.Id, TestContext.Current.CancellationToken));

        Assert.Equal(2, recorder.Observe("messaging.client.sent.messages"));
        Assert.Equal(0, recorder.Observe("messaging.client.consumed.messages"));
    }

    [Fact]
    public void MetricsNeedAMeterFactory()
    {
        Assert.Throws<ArgumentNullException>(() => new EngineMetrics(null!, () => []));
    }
}
