namespace QueueApi.Engine.Workers;

/// <summary>
/// Interrupts one worker's current wait (for a message, a resume or a backoff) so it looks again: a token linked to
/// shutdown, cancelled by a wake and renewed only after one, never per message.
/// </summary>
internal sealed class WakeSignal(CancellationToken shutdown)
{
    private CancellationTokenSource _wake = CancellationTokenSource.CreateLinkedTokenSource(shutdown);

    /// <summary>From any thread.</summary>
    public void Wake()
    {
        try
        {
            Volatile.Read(ref _wake).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Replaced or stopped meanwhile: the worker is already awake.
        }
    }

    /// <summary>The worker's thread, before each wait: after a wake, a fresh token.</summary>
    public CancellationToken Renew()
    {
        var old = _wake;
        if (!old.IsCancellationRequested || shutdown.IsCancellationRequested)
        {
            return old.Token;
        }

        Volatile.Write(ref _wake, CancellationTokenSource.CreateLinkedTokenSource(shutdown));
        old.Dispose();
        return _wake.Token;
    }

    /// <summary>
    /// Sleeps for <paramref name="duration"/> on the engine's clock (a test's fake one too: its timer wakes this
    /// thread when time is advanced), or until a wake; the wait's own bound is the same duration.
    /// </summary>
    public void Sleep(CancellationToken token, TimeSpan duration, TimeProvider time)
    {
        using (time.CreateTimer(static s => ((WakeSignal)s!).Wake(), this, duration, Timeout.InfiniteTimeSpan))
        {
            token.WaitHandle.WaitOne(duration);
        }
    }
}
