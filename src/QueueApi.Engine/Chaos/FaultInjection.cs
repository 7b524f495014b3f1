namespace QueueApi.Engine.Chaos;

/// <summary>
/// One worker's fault-injection switches (crash, hang), for proving the supervisor works. The worker looks at
/// them at the top of each loop; requests come from any thread and wake it first.
/// </summary>
internal sealed class FaultInjection
{
    // A hung worker blocks this long at most; its thread is a background one anyway.
    public static readonly TimeSpan HangBound = TimeSpan.FromHours(1);

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
        _hangGate.Wait(HangBound);
        throw new InjectedFaultException($"Worker {workerId} hung for {HangBound} (fault injection).");
    }
}
