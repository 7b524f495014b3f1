using Microsoft.Extensions.Logging;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Supervision;

/// <summary>
/// The supervisor thread: it watches every worker (faults, attempt time limits, stuck handlers) and runs every
/// wind-down (see <see cref="WindDown"/>). One token (<see cref="ShutdownToken"/>) asks every worker to stop.
/// </summary>
internal sealed partial class Supervisor : ISupervisor
{
    public const int ExitCodeWorkerFaulted = 3;
    public const int ExitCodeWorkerStuck = 4;

    // The supervisor's wait when nothing is due: a heartbeat that only bounds the wait.
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(30);

    private readonly ShutdownOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    // Stryker disable once Boolean : starting signalled only adds one look at start; every check in a look is idempotent.
    private readonly ManualResetEventSlim _attention = new(false);
    private readonly Lock _stopLock = new();
    private readonly Thread _thread;
    // Rings on the engine's clock when the supervisor's next look is due: with the system clock it merely doubles
    // the wait's own timeout; with a test's fake clock it is what wakes the supervisor when time is advanced.
    private readonly ITimer _alarm;
    private CountdownEvent _running = new(1);
    private WorkQueue[] _queues = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _stored = new(StringComparer.Ordinal);
    private Worker[] _workers = [];
    private Thread[] _storeThreads = [];
    private TimeSpan _shortestLimit = Heartbeat;
    private long _wakeAt = long.MaxValue;
    private FirstFailure? _firstFailure;
    private int _exitCode;

    public Supervisor(ShutdownOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        Life = new Lifecycle(options, time);
        _thread = new Thread(Supervise) { Name = "queueapi supervisor", IsBackground = true };
        _alarm = time.CreateTimer(static s => ((ManualResetEventSlim)s!).Set(), _attention, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public CancellationToken ShutdownToken => _shutdown.Token;

    /// <summary>Where the engine is in its life, what stop was asked (mode, reason, deadline) and how far it went.</summary>
    public Lifecycle Life { get; }

    public FirstFailure? FirstFailure => Volatile.Read(ref _firstFailure);

    /// <summary>Per queue, what the stop left stored for the next start (a durable store); empty until settled.</summary>
    public IReadOnlyDictionary<string, int> Stored => _stored;

    public int ExitCode => Volatile.Read(ref _exitCode);

    // ThreadState is a set of flags: a background thread not yet started is Background | Unstarted.
    public bool IsStarted => (_thread.ThreadState & ThreadState.Unstarted) == 0;

    /// <summary>Raised on the supervisor thread when a failure means the whole process must stop.</summary>
    public event Action? FatalStop;

    /// <summary>Raised on the supervisor thread once the workers were joined and every store settled.</summary>
    public event Action<IReadOnlyList<string>>? Stopped;

    /// <summary>Raised if the supervisor itself fails: nobody watches the workers any more.</summary>
    public event Action<Exception>? Failed;

    /// <summary>
    /// What to watch; called once, after the workers were built and before any starts. The store's own threads
    /// (a group-commit writer, a heartbeat) are watched too: one that ends while the engine runs stops everything.
    /// </summary>
    public void Watch(WorkQueue[] queues, IReadOnlyList<Thread> storeThreads)
    {
        _queues = queues;
        _storeThreads = [.. storeThreads];
        _workers = [.. queues.SelectMany(q => q.Workers)];
        _running = new CountdownEvent(Math.Max(1, _workers.Length));
        _shortestLimit = queues.Length == 0 ? Heartbeat : queues.Min(q => q.Options.AttemptTimeout);
        if (_workers.Length == 0)
        {
            _running.Signal();
        }
    }

    public void Start() => _thread.Start();

    public void Join(TimeSpan timeout)
    {
        if (IsStarted)
        {
            _thread.Join(timeout);
        }
    }

    /// <summary>Asks for a stop; false when one was already under way. The caller starts the engine first if needed.</summary>
    public bool TryRequestStop(ShutdownMode mode, StopReason reason)
    {
        lock (_stopLock)
        {
            if (!Life.TryRequest(mode, reason))
            {
                return false;
            }
        }

        LogStopRequested(_logger, mode, reason);
        StopIntake(mode);
        _attention.Set();
        return true;
    }

    public void OnWorkerFaulted(WorkerFault fault) =>
        RecordFirstFailure(new FirstFailure(fault.WorkerId, "faulted", fault.Type, fault.Message, fault.MessageId, fault.At), StopReason.WorkerFaulted, ExitCodeWorkerFaulted);

    public void OnWorkerExited() => _running.Signal();

    public void OnDeadlineArmed(long deadline)
    {
        if (deadline < Volatile.Read(ref _wakeAt))
        {
            _attention.Set();
        }
    }

    public void CancelNow() => _shutdown.Cancel();

    private void RecordFirstFailure(FirstFailure failure, StopReason reason, int exitCode)
    {
        if (Interlocked.CompareExchange(ref _firstFailure, failure, null) is null)
        {
            Volatile.Write(ref _exitCode, exitCode);
            lock (_stopLock)
            {
                Life.Fail(reason);
            }

            StopIntake(ShutdownMode.Immediate);
        }

        _attention.Set();
    }

    /// <summary>
    /// The first steps of every stop, taken at once on the caller's thread so workers start leaving while the
    /// supervisor wakes: refuse new messages, complete the stores (idle workers wake), and in immediate mode
    /// cancel the one shutdown token. The supervisor's wind-down repeats them harmlessly.
    /// </summary>
    private void StopIntake(ShutdownMode mode)
    {
        foreach (var q in _queues)
        {
            q.Store.StopAccepting();
            if (mode == ShutdownMode.Drain)
            {
                q.Runtime.Pause.Resume(); // Draining finishes what was accepted, paused queues included (not stored).
            }
        }

        if (mode == ShutdownMode.Immediate)
        {
            _shutdown.Cancel();
        }
    }

    private void Supervise()
    {
        try
        {
            while (true)
            {
                _attention.Wait(Alarm(NextLook()));
                _attention.Reset();
                CheckStuck();
                CheckStoreThreads();
                if (FirstFailure is { } f)
                {
                    LogWindingDown(_logger, f.WorkerId, f.Kind, f.Exception, f.Message);
                    FatalStop?.Invoke();
                    WindDown(ShutdownMode.Immediate);
                    return;
                }

                if (Life.Mode is { } mode)
                {
                    WindDown(mode);
                    return;
                }
            }
        }
#pragma warning disable CA1031 // The supervisor must never take the process down with it; it reports and finishes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Nobody watches the workers any more: stop taking messages no one may serve, stop every worker, stop
            // the host with a failure code, and fault the completion so whoever waits on it learns why.
            LogSupervisorFailed(_logger, ex);
            Life.Begin();
            Interlocked.CompareExchange(ref _exitCode, ExitCodeWorkerFaulted, 0);
            StopIntake(ShutdownMode.Immediate);
            FatalStop?.Invoke();
            Failed?.Invoke(ex);
        }
    }

    /// <summary>How long the supervisor may sleep: until the earliest attempt deadline, or a heartbeat.</summary>
    private TimeSpan NextLook()
    {
        var earliest = long.MaxValue;
        foreach (var w in _workers)
        {
            var d = w.Deadline.Next;
            if (d > 0 && d < earliest)
            {
                earliest = d;
            }
        }

        Interlocked.Exchange(ref _wakeAt, earliest);
        // A worker that arms a deadline between the scan and the exchange compares it with the old wake time and
        // may not signal. Such a deadline lies at least one time limit after the scan, so never sleeping longer
        // than the shortest time limit still meets it.
        var remaining = earliest == long.MaxValue ? Heartbeat : _time.GetElapsedTime(_time.GetTimestamp(), earliest);
        remaining = remaining < _shortestLimit ? remaining : _shortestLimit;
        // Stryker disable once Equality : at exactly zero nothing is due yet (due means now > deadline), so waiting 0 or 1 ms more is the same.
        return remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining + TimeSpan.FromMilliseconds(1);
    }

    /// <summary>Sets the alarm to ring after <paramref name="wait"/> on the engine's clock; returns the wait.</summary>
    private TimeSpan Alarm(TimeSpan wait)
    {
        _alarm.Change(wait, Timeout.InfiniteTimeSpan);
        return wait;
    }

    private void CheckStuck()
    {
        var now = _time.GetTimestamp();
        foreach (var w in _workers)
        {
            w.Deadline.TimeOut(now); // Past its attempt's limit: cancel the handler's token (a no-op otherwise).

            if (w.Deadline.IsStuck(now) && w.Thread.IsAlive)
            {
                var message = w.CurrentMessage?.Id;
                LogStuck(_logger, w.Id, message ?? "(none: hang injection)", w.Options.AttemptTimeout, w.Options.StuckGrace);
                RecordFirstFailure(
                    new FirstFailure(w.Id, "stuck", "WorkerStuck", $"did not return within {w.Options.AttemptTimeout} plus a grace of {w.Options.StuckGrace} after its token was cancelled", message, _time.GetUtcNow()),
                    StopReason.WorkerStuck,
                    ExitCodeWorkerStuck);
                // Stryker disable once Statement : a later stuck worker would only be logged and try to record a failure that is already recorded (first one wins).
                return;
            }
        }
    }

    /// <summary>A store's thread that ended (not just unstarted) while the engine runs: seen at the next look; liveness reports it at once.</summary>
    private void CheckStoreThreads()
    {
        if (Life.State != EngineState.Running || Life.Mode is not null)
        {
            return;
        }

        foreach (var t in _storeThreads)
        {
            if (StoreThreadEnded(t))
            {
                RecordFirstFailure(
                    new FirstFailure(t.Name ?? "store thread", "ended", "StoreThreadEnded", "the storage's background thread ended while the engine runs", null, _time.GetUtcNow()),
                    StopReason.WorkerFaulted,
                    ExitCodeWorkerFaulted);
                // Stryker disable once Statement : a later ended thread would only try to record a failure that is already recorded (first one wins).
                return;
            }
        }
    }

    internal static bool StoreThreadEnded(Thread thread) => !thread.IsAlive && (thread.ThreadState & ThreadState.Unstarted) == 0;

    /// <summary>
    /// Every stop, in order: refuse new messages; while draining, wait for the workers up to the drain deadline;
    /// cancel the one token; give cancelled handlers the grace; join the threads; settle what each store has left.
    /// </summary>
    private void WindDown(ShutdownMode mode)
    {
        Life.Begin();
        StopIntake(mode);
        Life.Phase("stop accepting");

        if (mode == ShutdownMode.Drain)
        {
            var drained = WaitForWorkers(_options.DrainTimeout, stopOnFailure: true);
            Life.Phase(drained ? "drain" : "drain (deadline passed)");
        }

        _shutdown.Cancel();
        WaitForWorkers(_options.CancelGrace, stopOnFailure: false);
        Life.Phase("cancel in-flight");

        var abandoned = JoinAll(_options.JoinTimeout);
        Life.Phase("join");

        var reason = FirstFailure is { } f ? $"worker {f.WorkerId} {f.Kind}"
            : mode == ShutdownMode.Immediate ? "immediate shutdown"
            : "drain deadline passed";
        foreach (var q in _queues)
        {
            var left = q.Store.Settle(reason);
            _stored[q.Name] = left.Kept;
            // Stryker disable once Equality,Boolean : only decides whether to log the dropped count.
            if (left.Dropped > 0)
            {
                LogDropped(_logger, left.Dropped, q.Name, reason);
            }

            // Stryker disable once Equality,Boolean : only decides whether to log the kept count (the count is stored above either way).
            if (left.Kept > 0)
            {
                LogKept(_logger, left.Kept, q.Name);
            }
        }

        Life.Phase("account");
        Stopped?.Invoke(abandoned);
    }

    /// <summary>Waits for every worker to end, up to the timeout; while draining, a fault or a stuck worker cuts it short.</summary>
    private bool WaitForWorkers(TimeSpan timeout, bool stopOnFailure)
    {
        var until = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        var handles = new[] { _running.WaitHandle, _attention.WaitHandle };
        while (true)
        {
            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), until);
            if (_running.IsSet)
            {
                return true;
            }

            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            var next = NextLook();
            // Stryker disable once Equality : when next equals remaining both branches wait the same time.
            var hit = WaitHandle.WaitAny(handles, Alarm(next < remaining ? next : remaining));
            if (hit == 1)
            {
                _attention.Reset();
            }

            CheckStuck();
            if (stopOnFailure && FirstFailure is not null)
            {
                return false;
            }
        }
    }

    private List<string> JoinAll(TimeSpan budget)
    {
        var until = _time.GetTimestamp() + (long)(budget.TotalSeconds * _time.TimestampFrequency);
        var abandoned = new List<string>();
        foreach (var w in _workers)
        {
            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), until);
            if (!w.Thread.Join(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero))
            {
                // .NET cannot kill a thread; a background one will not keep the process alive.
                abandoned.Add(w.Id);
                LogAbandoned(_logger, w.Id, w.CurrentMessage?.Id);
            }
        }

        return abandoned;
    }
}
