namespace QueueApi.Engine.Chaos;

/// <summary>
/// One worker's fault-injection switches (crash, hang), for proving the supervisor works. The worker looks at
/// them at the top of each loop; requests come from any thread and wake it first.
/// </summary>
/// <param name="hangBound">How long a hang blocks (<see cref="HangBound"/> unless a test asks for less).</param>
internal sealed class FaultInjection(TimeSpan? hangBound = null)
{
    // A hung worker blocks this long at most; its thread is a background one anyway.
    public static readonly TimeSpan HangBound = TimeSpan.FromHours(1);

    private readonly TimeSpan _hangBound = hangBound ?? HangBound;
    // Never set: a hang is a bounded block no token can end.
    private readonly ManualResetEventSlim _hangGate = new(false);
    private volatile bool _crashRequested;
    private volatile bool _hangRequested;

    public bool HangRequested => _hangRequested;

    public void RequestCrash() => _crashRequested = true;

    public void RequestHang() => _hangRequested = true;

    /// <summary>Throws if a crash was asked for.</summary>
    public void ThrowIfCrashRequested(string workerId)
    {
        if (_crashRequested)
        {
            throw new InjectedFaultException($"Worker {workerId} was asked to crash (fault injection).");
        }
    }

    /// <summary>Blocks, deliberately ignoring every token (a handler stuck in native code), then throws.</summary>
    public void Hang(string workerId)
    {
        _hangGate.Wait(_hangBound);
        throw new InjectedFaultException($"Worker {workerId} hung for {_hangBound} (fault injection).");
    }
}
