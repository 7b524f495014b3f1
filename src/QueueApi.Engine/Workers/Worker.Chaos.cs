namespace QueueApi.Engine.Workers;

// Fault injection (chaos endpoints): kept apart from the worker's loop, which only calls CheckChaos.
public sealed partial class Worker
{
    /// <summary>Fault injection: the loop throws as if it had a bug.</summary>
    internal void RequestCrash()
    {
        _chaos.RequestCrash();
        Wake();
    }

    /// <summary>Fault injection: the worker blocks and ignores its token.</summary>
    internal void RequestHang()
    {
        _chaos.RequestHang();
        Wake();
    }

    private void CheckChaos()
    {
        _chaos.ThrowIfCrashRequested(Id);
        if (_chaos.HangRequested)
        {
            SetState(WorkerState.Busy);
            Interlocked.Exchange(ref _busySinceTicks, _time.GetUtcNow().UtcTicks);
            Deadline.Arm(_time.GetTimestamp(), _queue.Options.AttemptTimeout);
            WorkerLog.Hanging(_logger, Id);
            _chaos.Hang(Id);
        }
    }
}
