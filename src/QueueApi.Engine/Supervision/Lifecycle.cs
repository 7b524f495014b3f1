using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;

namespace QueueApi.Engine.Supervision;

/// <summary>
/// Where the engine is in its life, and the stop asked of it: mode, reason, when, the deadline, and how long each
/// phase of the wind-down took. Written under the supervisor's stop lock (requests) or by the supervisor thread.
/// </summary>
internal sealed class Lifecycle(ShutdownOptions options, TimeProvider time)
{
    private readonly List<PhaseTiming> _phases = [];
    // Phases are timed on the engine's clock (not a stopwatch), so a test on a fake clock can time them exactly.
    private long _phaseStart;
    private volatile int _state = (int)EngineState.Created;

    public EngineState State => (EngineState)_state;

    /// <summary>The stop asked for; null while none was.</summary>
    public ShutdownMode? Mode { get; private set; }

    public StopReason Reason { get; private set; } = StopReason.Requested;

    public DateTimeOffset RequestedAt { get; private set; }

    public DateTimeOffset Deadline { get; private set; }

    public bool IsStopping => Mode is not null || State is EngineState.Stopping or EngineState.Stopped;

    public bool TryStart() =>
        Interlocked.CompareExchange(ref _state, (int)EngineState.Running, (int)EngineState.Created) == (int)EngineState.Created;

    /// <summary>Records a stop request; false if one was already recorded or the engine is stopping.</summary>
    public bool TryRequest(ShutdownMode mode, StopReason reason)
    {
        if (IsStopping)
        {
            return false;
        }

        Mode = mode;
        Reason = reason;
        RequestedAt = time.GetUtcNow();
        Deadline = RequestedAt + (mode == ShutdownMode.Drain ? options.DrainTimeout : TimeSpan.Zero) + options.CancelGrace;
        return true;
    }

    /// <summary>A failure stops the engine at once, whatever was asked before; the reason is the failure's.</summary>
    public void Fail(StopReason reason)
    {
        if (Mode is null)
        {
            Mode = ShutdownMode.Immediate;
            RequestedAt = time.GetUtcNow();
            Deadline = RequestedAt + options.CancelGrace;
        }

        Reason = reason;
    }

    /// <summary>The wind-down begins (or the supervisor failed): the engine is stopping.</summary>
    public void Begin()
    {
        _state = (int)EngineState.Stopping;
        _phaseStart = time.GetTimestamp();
    }

    public void Phase(string name)
    {
        var now = time.GetTimestamp();
        lock (_phases)
        {
            _phases.Add(new PhaseTiming(name, Math.Round(time.GetElapsedTime(_phaseStart, now).TotalMilliseconds, 3)));
        }

        _phaseStart = now;
    }

    public void End() => _state = (int)EngineState.Stopped;

    public PhaseTiming[] Phases()
    {
        lock (_phases)
        {
            return [.. _phases];
        }
    }
}
