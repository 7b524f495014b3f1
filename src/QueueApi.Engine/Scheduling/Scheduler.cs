using Microsoft.Extensions.Logging;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Scheduling;

/// <summary>
/// The scheduler thread: it enqueues one message per occurrence of every enabled schedule, then sleeps until the
/// earliest next occurrence (a timer on the engine's <see cref="TimeProvider"/>), woken at once by a change to the
/// schedules (<see cref="Wake"/>) and by <see cref="Stop"/>. Each occurrence is claimed in the store by a
/// compare-and-set of the schedule's cursor before its message is enqueued, so of several schedulers sharing a store
/// exactly one enqueues it.
/// </summary>
/// <remarks>
/// A schedule that fails (its store or queue refusing) is logged and looked at again after <see cref="RetryDelay"/>;
/// only a bug in the loop itself kills the thread, and that is reported to the engine, which winds down.
/// Claim, then enqueue, then record: the claim notes the message's id as a pending run, so in a store that keeps
/// pending runs (PostgreSQL) a scheduler that dies in between leaves the run for another to finish
/// (<see cref="IScheduleStore.AdoptPendingRunsAsync"/>); elsewhere such a crash loses that one occurrence.
/// </remarks>
public sealed partial class Scheduler : IDisposable
{
    public const string ThreadName = "queueapi scheduler";

    /// <summary>When a schedule could not be served, how long until it is tried again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    // Bounds the wait even if a timer were lost; with the timer armed for the next occurrence it never matters.
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    private readonly IScheduleStore _store;
    private readonly QueueEngine _engine;
    private readonly TimeProvider _time;
    private readonly ScheduleRunner _runner;
    private readonly ILogger _logger;
    // Stryker disable once Boolean : the loop resets the event before its first pass, so its initial state never counts.
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _alarm;
    private readonly Thread _thread;
    // Parsed cron per schedule, reparsed only when its timing changed (a durable store reads new objects each pass).
    private readonly Dictionary<string, (ScheduleDefinition Definition, CronSchedule Cron)> _parsed = new(StringComparer.Ordinal);
    private long _passes;

    public Scheduler(IScheduleStore store, QueueEngine engine, TimeProvider time, SchedulerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _engine = engine;
        _time = time;
        _runner = new ScheduleRunner(store, engine, options.MisfireGrace, logger, CronOf);
        _logger = logger;
        _thread = new Thread(Run) { Name = ThreadName, IsBackground = true };
        _alarm = time.CreateTimer(static s => ((ManualResetEventSlim)s!).Set(), _wake, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public Thread Thread => _thread;

    /// <summary>How many passes over the schedules the thread made; for tests that wait for the next one.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    public void Start() => _thread.Start();

    /// <summary>Look again now: a schedule was created, replaced or deleted.</summary>
    public void Wake() => _wake.Set();

    /// <summary>Stops the thread and waits for it, at most <paramref name="timeout"/>.</summary>
    public void Stop(TimeSpan timeout)
    {
        _stop.Cancel();
        if ((_thread.ThreadState & ThreadState.Unstarted) == 0)
        {
            _thread.Join(timeout);
        }
    }

    /// <summary>
    /// One pass: every enabled schedule enqueues what is due at the clock's now. Returns when the next one is due
    /// (null: none is). The thread calls it; tests on a fake clock may call it directly.
    /// </summary>
    public DateTimeOffset? RunDue()
    {
        var token = _stop.Token;
        var now = _time.GetUtcNow();
        DateTimeOffset? earliest = null;
        IReadOnlyList<StoredSchedule> schedules;
        try
        {
            // Runs a dead scheduler (another replica, or this one in a failed pass) claimed but never recorded.
            earliest = _runner.FinishAll(Await(_store.AdoptPendingRunsAsync(token)), now, token);

            schedules = Await(_store.ListAsync(token));
        }
        catch (StorageUnavailableException ex)
        {
            // A shared store's outage is ridden out: nothing is claimed meanwhile, so nothing is lost.
            LogStoreUnavailable(_logger, ex.Message);
            Interlocked.Increment(ref _passes);
            return now + RetryDelay;
        }

        earliest = Earliest(earliest, _runner.ServeAll(schedules, now, token));

        // A store shared with other replicas is looked at again soon: their changes cannot wake this thread.
        if (_store.RefreshInterval is { } refresh)
        {
            earliest = Earliest(earliest, now + refresh);
        }

        Interlocked.Increment(ref _passes);
        return earliest;
    }

    internal static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null || (b is not null && b < a) ? b : a;

    /// <summary>Enqueues one message of the schedule now, outside its cron; its cursor stays where it is.</summary>
    public async ValueTask<ScheduleRun> TriggerAsync(ScheduleDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var now = _time.GetUtcNow();
        var run = _engine.TryGetQueue(definition.Queue, out var queue)
            ? await _runner.EnqueueAsync(definition, queue!, _runner.NewMessage(queue!, definition, null), null, now, cancellationToken).ConfigureAwait(false)
            : ScheduleRunner.NoQueue(definition, null, now);
        await _store.RecordRunAsync(definition.Name, run, cancellationToken).ConfigureAwait(false);
        return run;
    }

    /// <summary>The schedule's parsed cron (cached while its definition is unchanged).</summary>
    public CronSchedule CronOf(ScheduleDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (_parsed)
        {
            if (_parsed.TryGetValue(definition.Name, out var p) && p.Definition.SameTimingAs(definition))
            {
                return p.Cron;
            }

            if (!CronSchedule.TryParse(definition.Cron, definition.TimeZone, out var cron, out var cronError, out var zoneError))
            {
                throw new InvalidOperationException($"Schedule '{definition.Name}' was stored invalid: {cronError ?? zoneError}");
            }

            _parsed[definition.Name] = (definition, cron!);
            return cron!;
        }
    }

    private void Run()
    {
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                // Reset before the pass: a change made during it wakes the next wait at once.
                _wake.Reset();
                var next = RunDue();
                var delay = next is { } n ? n - _time.GetUtcNow() : Timeout.InfiniteTimeSpan;
                if (delay != Timeout.InfiniteTimeSpan && delay <= TimeSpan.Zero)
                {
                    continue;
                }

                // A timer takes at most ~49.7 days (its due time is a uint of milliseconds) and throws beyond: an
                // occurrence further away (a yearly cron) is approached in steps of MaxWait, not left to kill the thread.
                _alarm.Change(delay > MaxWait ? MaxWait : delay, Timeout.InfiniteTimeSpan);
                _wake.Wait(MaxWait, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped.
        }
#pragma warning disable CA1031 // The top of a thread: record the death and let the engine wind down, rather than crash the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogThreadFailed(_logger, ex);
            _engine.ReportFault(ThreadName, ex);
        }
    }

    // Stryker disable once Conditional : "false" only skips the fast path (same result); "true" is also pinned by a test (AStoreFailingAfterAnAwait).
    private static T Await<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    public void Dispose()
    {
        _stop.Cancel();
        // Stryker disable once Statement : frees a one-shot timer the stopped thread no longer uses; nothing reads it after Dispose.
        _alarm.Dispose();
        _stop.Dispose();
        // Stryker disable once Statement : the event holds no kernel handle unless one was asked for; nothing waits on it after the thread ended.
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The schedule store cannot be read ({Reason}); the scheduler looks again shortly")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The scheduler thread failed; the engine winds down")]
    private static partial void LogThreadFailed(ILogger logger, Exception ex);
}
