using Microsoft.Extensions.Logging;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
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
    private readonly TimeSpan _grace;
    private readonly ILogger _logger;
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
        _grace = options.MisfireGrace;
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
            foreach (var pending in Await(_store.AdoptPendingRunsAsync(token)))
            {
                earliest = Earliest(earliest, Guarded(pending.Schedule, now, () => Finish(pending, now, token)));
            }

            schedules = Await(_store.ListAsync(token));
        }
        catch (StorageUnavailableException ex)
        {
            // A shared store's outage is ridden out: nothing is claimed meanwhile, so nothing is lost.
            LogStoreUnavailable(_logger, ex.Message);
            Interlocked.Increment(ref _passes);
            return now + RetryDelay;
        }

        earliest = Earliest(earliest, ServeAll(schedules, now, token));

        // A store shared with other replicas is looked at again soon: their changes cannot wake this thread.
        if (_store.RefreshInterval is { } refresh)
        {
            earliest = Earliest(earliest, now + refresh);
        }

        Interlocked.Increment(ref _passes);
        return earliest;
    }

    /// <summary>Every enabled schedule, one at a time or (a store behind round trips) several at once; the earliest next.</summary>
    private DateTimeOffset? ServeAll(IReadOnlyList<StoredSchedule> schedules, DateTimeOffset now, CancellationToken token)
    {
        DateTimeOffset? earliest = null;
        var enabled = schedules.Where(s => s.Definition.Enabled);
        if (_store.ConcurrentServes <= 1)
        {
            foreach (var schedule in enabled)
            {
                earliest = Earliest(earliest, Guarded(schedule.Definition.Name, now, () => Serve(schedule, now, token)));
            }

            return earliest;
        }

        var gate = new Lock();
        try
        {
            // Each schedule is still served by one thread, so its claim, enqueue and record stay in order.
            Parallel.ForEach(enabled, new ParallelOptions { MaxDegreeOfParallelism = _store.ConcurrentServes, CancellationToken = token }, schedule =>
            {
                var next = Guarded(schedule.Definition.Name, now, () => Serve(schedule, now, token));
                lock (gate)
                {
                    earliest = Earliest(earliest, next);
                }
            });
        }
        catch (AggregateException) when (token.IsCancellationRequested)
        {
            throw new OperationCanceledException(token);
        }

        return earliest;
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null || (b is not null && b < a) ? b : a;

    /// <summary>Per schedule, so one failing schedule (or a store blip) cannot stop the others or the thread.</summary>
    private DateTimeOffset? Guarded(string name, DateTimeOffset now, Func<DateTimeOffset?> serve)
    {
        try
        {
            return serve();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogScheduleFailed(_logger, ex, name);
            return now + RetryDelay;
        }
    }

    /// <summary>Enqueues one message of the schedule now, outside its cron; its cursor stays where it is.</summary>
    public async ValueTask<ScheduleRun> TriggerAsync(ScheduleDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var now = _time.GetUtcNow();
        var run = _engine.TryGetQueue(definition.Queue, out var queue)
            ? await EnqueueAsync(definition, queue!, NewMessage(queue!, definition, null), null, now, cancellationToken).ConfigureAwait(false)
            : NoQueue(definition, null, now);
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

    private DateTimeOffset? Serve(StoredSchedule schedule, DateTimeOffset now, CancellationToken token)
    {
        var definition = schedule.Definition;
        var cron = CronOf(definition);
        // A queue that stopped accepting keeps its occurrences unclaimed: the next start runs them by the Misfire rule.
        if (!_engine.TryGetQueue(definition.Queue, out var found) || found is not { IsAccepting: true } queue)
        {
            return null;
        }

        var cursor = schedule.Cursor;
        while (true)
        {
            var step = ScheduleStep.Decide(cron, cursor, now, _grace, definition.Misfire);
            if (step.NewCursor is not { } claimTo)
            {
                return step.Next;
            }

            // The message is made before the claim, which notes its id: whoever finishes a run left pending by a crash
            // can tell whether its message was enqueued.
            var message = step.Fire is { } fire ? NewMessage(queue, definition, fire) : null;
            var pending = message is null ? null : new PendingRun(definition.Name, step.Fire!.Value, message.Id);
            if (!Await(_store.TryClaimAsync(definition.Name, cursor, claimTo, pending, token)))
            {
                // Another scheduler claimed it, or the schedule changed: carry on from what is stored now.
                if (Await(_store.GetAsync(definition.Name, token)) is not { } fresh || !ReferenceEquals(fresh.Definition, definition) && !fresh.Definition.SameTimingAs(definition))
                {
                    return null;
                }

                cursor = fresh.Cursor;
                continue;
            }

            cursor = claimTo;
            if (step.Missed)
            {
                LogMissed(_logger, definition.Name, cron.Next(schedule.Cursor), definition.Misfire);
            }

            if (message is not null)
            {
                Await(_store.RecordRunAsync(definition.Name, Await(EnqueueAsync(definition, queue, message, step.Fire, now, token)), token));
            }
        }
    }

    /// <summary>
    /// Finishes a run another scheduler claimed and left pending: if its message was stored (the claimant died after
    /// the enqueue) it is only recorded; otherwise it is enqueued now, under the occurrence's key. Returns when to look
    /// again if it cannot be finished here yet.
    /// </summary>
    private DateTimeOffset? Finish(PendingRun pending, DateTimeOffset now, CancellationToken token)
    {
        if (Await(_store.GetAsync(pending.Schedule, token)) is not { } schedule)
        {
            return null; // Deleted since: its pending run went with it.
        }

        var definition = schedule.Definition;
        if (!_engine.TryGetQueue(definition.Queue, out var queue))
        {
            Await(_store.RecordRunAsync(pending.Schedule, NoQueue(definition, pending.Occurrence, now), token));
            return null;
        }

        if (!queue!.IsAccepting)
        {
            return null; // Stopping: it stays pending, and a live replica finishes it once this one has stopped.
        }

        LogAdopted(_logger, pending.Schedule, pending.Occurrence);
        var run = queue.TryGetMessage(pending.MessageId, out _)
            ? new ScheduleRun(pending.Occurrence, now, pending.MessageId)
            : Await(EnqueueAsync(definition, queue, NewMessage(queue, definition, pending.Occurrence), pending.Occurrence, now, token));
        Await(_store.RecordRunAsync(pending.Schedule, run, token));
        return null;
    }

    private QueueMessage NewMessage(WorkQueue queue, ScheduleDefinition definition, DateTimeOffset? occurrence)
    {
        // An occurrence's message carries a key of its own (issue 15's idempotent enqueue): a store that shares keys
        // among replicas or keeps them across a crash turns any second attempt at the same occurrence into a replay.
        var key = occurrence is { } o && _engine.Storage.Features.HasFlag(StoreFeatures.IdempotencyKeys) ? $"schedule:{definition.Name}:{o.UtcTicks}" : null;
        return queue.NewMessage(definition.Payload, traceParent: null, idempotencyKey: key, priority: definition.Priority);
    }

    private static ScheduleRun NoQueue(ScheduleDefinition definition, DateTimeOffset? occurrence, DateTimeOffset now) =>
        new(occurrence, now, null, $"Queue '{definition.Queue}' is not configured.");

    private async ValueTask<ScheduleRun> EnqueueAsync(
        ScheduleDefinition definition, WorkQueue queue, QueueMessage message, DateTimeOffset? occurrence, DateTimeOffset now, CancellationToken token)
    {
        var status = await queue.EnqueueAsync(message, token).ConfigureAwait(false);
        if (status == EnqueueStatus.Duplicate)
        {
            return new ScheduleRun(occurrence, now, message.ReplayOf);
        }

        if (status == EnqueueStatus.StorageUnavailable && occurrence is not null)
        {
            // Not recorded: the run stays pending in a store that keeps pending runs, and the next pass finishes it.
            throw new StorageUnavailableException($"Schedule '{definition.Name}': the store could not take its message now.");
        }

        if (status != EnqueueStatus.Accepted)
        {
            LogRefused(_logger, definition.Name, definition.Queue, status);
            return new ScheduleRun(occurrence, now, null, $"Queue '{definition.Queue}' refused the message: {status}.");
        }

        return new ScheduleRun(occurrence, now, message.Id);
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

                _alarm.Change(delay, Timeout.InfiniteTimeSpan);
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

    private static T Await<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    private static void Await(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
        {
            pending.AsTask().GetAwaiter().GetResult();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _alarm.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Schedule {Schedule} could not be served; it is tried again shortly")]
    private static partial void LogScheduleFailed(ILogger logger, Exception ex, string schedule);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule} missed its occurrences from {First:O} (the service was not running); Misfire {Policy}")]
    private static partial void LogMissed(ILogger logger, string schedule, DateTimeOffset? first, MisfirePolicy policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule}: queue {Queue} refused its message ({Status}); this occurrence is lost")]
    private static partial void LogRefused(ILogger logger, string schedule, string queue, EnqueueStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The schedule store cannot be read ({Reason}); the scheduler looks again shortly")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule}: finishing the run for {Occurrence:O}, left pending by a scheduler that died, stopped or failed")]
    private static partial void LogAdopted(ILogger logger, string schedule, DateTimeOffset occurrence);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The scheduler thread failed; the engine winds down")]
    private static partial void LogThreadFailed(ILogger logger, Exception ex);
}
