using QueueApi.Engine.Supervision;

namespace QueueApi.Engine.Workers;

/// <summary>
/// One worker's attempt time limit and the handler's token. The worker arms a deadline (a timestamp) as an attempt
/// starts and disarms it as it ends; the supervisor, past the deadline, claims it and cancels the token.
/// </summary>
/// <remarks>
/// The token is reused while nothing cancels it, so an attempt arms no timer. The deadline is 0 with no attempt,
/// positive while armed and negated once the supervisor claimed it; a worker that finished meanwhile then knows the
/// cancel is its to absorb, not the next attempt's.
/// </remarks>
internal sealed class AttemptDeadline
{
    private readonly ISupervisor _supervisor;
    private readonly long _grace;
    private readonly long _frequency;
    private CancellationTokenSource _attempt;
    private long _deadline;

    public AttemptDeadline(ISupervisor supervisor, TimeSpan stuckGrace, long timestampFrequency)
    {
        _supervisor = supervisor;
        _frequency = timestampFrequency;
        _grace = (long)(stuckGrace.TotalSeconds * timestampFrequency);
        _attempt = CancellationTokenSource.CreateLinkedTokenSource(supervisor.ShutdownToken);
    }

    /// <summary>The handler's token for the armed attempt.</summary>
    public CancellationToken Token => _attempt.Token;

    /// <summary>True once the supervisor claimed this attempt's deadline (it timed out).</summary>
    public bool TimedOut => Interlocked.Read(ref _deadline) < 0;

    /// <summary>
    /// When the supervisor must next look: the attempt's time limit while it runs, and once the supervisor has
    /// cancelled it, that limit plus the grace. 0 when there is no attempt.
    /// </summary>
    public long Next => Interlocked.Read(ref _deadline) switch
    {
        0 => 0,
        // Stryker disable once Equality : 0 is matched by the arm above, so >= 0 and > 0 select the same values
        > 0 and var d => d,
        var d => -d + _grace,
    };

    public bool IsStuck(long now) => Interlocked.Read(ref _deadline) is var d and not 0 && now > Math.Abs(d) + _grace;

    /// <summary>Arms the deadline of an attempt started at <paramref name="start"/>; returns it for <see cref="Disarm"/>.</summary>
    public long Arm(long start, TimeSpan limit)
    {
        // Never 0 and never negative: those mean "no attempt" and "claimed by the supervisor". The supervisor never
        // sleeps longer than the shortest time limit, so a deadline armed while it plans its sleep is still met.
        var deadline = Math.Max(1, start + (long)(limit.TotalSeconds * _frequency));
        Volatile.Write(ref _deadline, deadline);
        _supervisor.OnDeadlineArmed(deadline);
        return deadline;
    }

    /// <summary>Ends the attempt's deadline; if the supervisor claimed it, takes a fresh token for the next one.</summary>
    public void Disarm(long armed)
    {
        if (Interlocked.CompareExchange(ref _deadline, 0, armed) == armed)
        {
            // Unclaimed: the token lives on, minus whatever this attempt registered on it and left behind, so a
            // later attempt's timeout never runs an earlier attempt's callbacks (a no-op when nothing registered).
            // False only when shutdown cancelled it, and then the loop ends.
            _attempt.TryReset();
            return;
        }

        // The supervisor claimed the deadline; it cancels and disposes that source itself.
        Interlocked.Exchange(ref _deadline, 0);
        Volatile.Write(ref _attempt, CancellationTokenSource.CreateLinkedTokenSource(_supervisor.ShutdownToken));
    }

    /// <summary>Called by the supervisor: past the deadline, claims it and cancels the handler's token.</summary>
    public void TimeOut(long now)
    {
        var d = Interlocked.Read(ref _deadline);
        // Read after the deadline: the token is only renewed after a claim, so this is the armed attempt's token.
        var attempt = Volatile.Read(ref _attempt);
        if (d > 0 && now > d && Interlocked.CompareExchange(ref _deadline, -d, d) == d)
        {
            // The claimed source is the supervisor's now: the worker takes a fresh one and never touches it again.
            // CancelAsync marks it cancelled at once and runs the handler's callbacks (and whatever continues from
            // them) on the thread pool, so a handler that blocks or throws there cannot stall or kill the supervisor.
            attempt.CancelAsync().ContinueWith(
                static (cancel, source) =>
                {
                    _ = cancel.Exception; // A throwing callback is the handler's business: observed, not rethrown.
                    ((CancellationTokenSource)source!).Dispose();
                },
                attempt,
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
        }
    }
}
