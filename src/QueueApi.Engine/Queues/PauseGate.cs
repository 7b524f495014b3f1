namespace QueueApi.Engine.Queues;

/// <summary>
/// Where a queue's workers wait while it is paused. Pausing wakes the idle ones (they wait for a message, not
/// for a pause) so they look again; each worker registers its wake-up once, before it starts.
/// </summary>
internal sealed class PauseGate(bool paused)
{
    private readonly ManualResetEventSlim _running = new(initialState: !paused);
    private readonly List<Action> _wakers = [];

    public bool IsPaused => !_running.IsSet;

    public void Register(Action wake) => _wakers.Add(wake);

    public void Pause()
    {
        _running.Reset();
        foreach (var wake in _wakers)
        {
            wake();
        }
    }

    public void Resume() => _running.Set();

    /// <summary>Blocks a worker while the queue is paused; false on timeout.</summary>
    public bool WaitUntilRunning(TimeSpan timeout, CancellationToken cancellationToken) => _running.Wait(timeout, cancellationToken);
}
