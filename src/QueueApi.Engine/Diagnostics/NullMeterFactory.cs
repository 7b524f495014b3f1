using System.Diagnostics.Metrics;

namespace QueueApi.Engine.Diagnostics;

/// <summary>Meters nobody listens to, for an engine built without a host (tests, benchmarks).</summary>
internal sealed class NullMeterFactory : IMeterFactory
{
    public Meter Create(MeterOptions options) => new(options);

    public void Dispose() { }
}
