using Microsoft.Extensions.Logging;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Scheduling;

/// <summary>
/// Turns due occurrences into messages for the <see cref="Scheduler"/>: claim, then enqueue, then record, many
/// schedules per store call. Schedules are served in chunks of <see cref="ChunkSize"/>, several at once; a chunk
/// costs one claim call, one batch enqueue per queue and one record call, so 10,000 schedules due in the same
/// second cost a few dozen writes rather than 30,000 (issue 16's burst).
/// </summary>
/// <remarks>
/// Each schedule's own steps stay in order: its claim, its enqueue and its record. A claim lost to another
/// scheduler (or to a change of the schedule) is looked at again from what is stored now, in the chunk's next
/// round. A failure of the store fails the chunk: it is logged and looked at again after
/// <see cref="Scheduler.RetryDelay"/>, and a store that keeps pending runs finishes what was claimed then.
/// </remarks>
internal sealed partial class ScheduleRunner(IScheduleStore store, QueueEngine engine, TimeSpan grace, ILogger logger, Func<ScheduleDefinition, CronSchedule> cronOf)
{
    /// <summary>How many schedules share a claim, an enqueue per queue and a record: bounds each transaction's size.</summary>
    internal const int ChunkSize = 1000;

    /// <summary>
    /// How many chunks are served at once: a store behind round trips (PostgreSQL) overlaps their waits, a store with
    /// group commit (SQLite) writes their claims in shared transactions. A burst of 10,000 spans ten chunks.
    /// </summary>
    internal const int ConcurrentChunks = 4;

    /// <summary>Every enabled schedule of the pass; returns the earliest next occurrence (or retry) among them.</summary>
    public DateTimeOffset? ServeAll(IReadOnlyList<StoredSchedule> schedules, DateTimeOffset now, CancellationToken token)
    {
        DateTimeOffset? earliest = null;
        var chunks = new List<List<Due>>();
        foreach (var schedule in schedules)
        {
            if (!schedule.Definition.Enabled)
            {
                continue;
            }

            try
            {
                // A queue that stopped accepting keeps its occurrences unclaimed: the next start runs them by the Misfire rule.
                if (engine.TryGetQueue(schedule.Definition.Queue, out var queue) && queue is { IsAccepting: true })
                {
                    if (chunks.Count == 0 || chunks[^1].Count == ChunkSize)
                    {
                        chunks.Add(new List<Due>(Math.Min(ChunkSize, schedules.Count)));
                    }

                    chunks[^1].Add(new Due(schedule, cronOf(schedule.Definition), queue));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A schedule stored invalid is skipped alone: the others still run.
                LogScheduleFailed(logger, ex, schedule.Definition.Name);
                earliest = Scheduler.Earliest(earliest, now + Scheduler.RetryDelay);
            }
        }

        // Stryker disable once Equality : one chunk through Parallel.ForEach is served the same; this path only skips its machinery.
        if (chunks.Count <= 1)
        {
            return chunks.Count == 0 ? earliest : Scheduler.Earliest(earliest, ServeChunk(chunks[0], now, token));
        }

        var gate = new Lock();
        try
        {
            Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentChunks, CancellationToken = token }, chunk =>
            {
                var next = ServeChunk(chunk, now, token);
                lock (gate)
                {
                    earliest = Scheduler.Earliest(earliest, next);
                }
            });
        }
        catch (AggregateException) when (token.IsCancellationRequested)
        {
            throw new OperationCanceledException(token);
        }

        return earliest;
    }

    private DateTimeOffset? ServeChunk(List<Due> active, DateTimeOffset now, CancellationToken token)
    {
        DateTimeOffset? earliest = null;
        // Rounds: a schedule whose claim went through steps again from its new cursor (normally to learn its next time).
        // Stryker disable once Equality : an empty round claims nothing and leaves at "claiming.Count == 0" below.
        while (active.Count > 0)
        {
            var claiming = new List<Due>(active.Count);
            foreach (var due in active)
            {
                due.Step = ScheduleStep.Decide(due.Cron, due.Cursor, now, grace, due.Definition.Misfire);
                if (due.Step.NewCursor is null)
                {
                    earliest = Scheduler.Earliest(earliest, due.Step.Next);
                    continue;
                }

                // The message is made before the claim, which notes its id: whoever finishes a run left pending by a
                // crash can tell whether its message was enqueued.
                due.Message = due.Step.Fire is { } fire ? NewMessage(due.Queue, due.Definition, fire) : null;
                claiming.Add(due);
            }

            if (claiming.Count == 0)
            {
                break;
            }

            try
            {
                active = Claim(claiming, token);
                var runs = EnqueueAll(claiming.Where(d => d.Won && d.Message is not null), now, token, out var failed);
                if (runs.Count > 0)
                {
                    Await(store.RecordRunsAsync(runs, token));
                }

                if (failed)
                {
                    return Scheduler.Earliest(earliest, now + Scheduler.RetryDelay);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogChunkFailed(logger, ex, claiming.Count);
                return Scheduler.Earliest(earliest, now + Scheduler.RetryDelay);
            }
        }

        return earliest;
    }

    /// <summary>Claims the chunk's occurrences in one call; returns the schedules to step again.</summary>
    private List<Due> Claim(List<Due> claiming, CancellationToken token)
    {
        var claims = claiming.ConvertAll(d => new ScheduleClaim(
            d.Definition.Name, d.Cursor, d.Step.NewCursor!.Value, d.Message is null ? null : new PendingRun(d.Definition.Name, d.Step.Fire!.Value, d.Message.Id)));
        var won = Await(store.TryClaimManyAsync(claims, token));
        var again = new List<Due>(claiming.Count);
        var lost = new List<Due>();
        for (var i = 0; i < claiming.Count; i++)
        {
            var due = claiming[i];
            due.Won = won[i];
            if (!due.Won)
            {
                lost.Add(due);
                continue;
            }

            due.Cursor = due.Step.NewCursor!.Value;
            if (due.Step.Missed)
            {
                LogMissed(logger, due.Definition.Name, due.Cron.Next(due.FirstCursor), due.Definition.Misfire);
            }

            again.Add(due);
        }

        // Another scheduler claimed these (replicas racing on a burst lose thousands at once: one read for them all).
        var stored = lost.Count switch
        {
            0 => [],
            1 => Await(store.GetAsync(lost[0].Definition.Name, token)) is { } one ? [one] : [],
            _ => Await(store.ListAsync(token)),
        };
        var fresh = stored.ToDictionary(s => s.Definition.Name, StringComparer.Ordinal);
        foreach (var due in lost)
        {
            // Carry on from what is stored now; a schedule deleted or retimed meanwhile is left to the next pass.
            if (fresh.TryGetValue(due.Definition.Name, out var now) && (ReferenceEquals(now.Definition, due.Definition) || now.Definition.SameTimingAs(due.Definition)))
            {
                due.Cursor = now.Cursor;
                again.Add(due);
            }
        }

        return again;
    }

    /// <summary>One batch per queue; a batch refused whole (a full queue) is tried message by message, so what fits goes in.</summary>
    private List<(string Name, ScheduleRun Run)> EnqueueAll(IEnumerable<Due> firing, DateTimeOffset now, CancellationToken token, out bool failed)
    {
        failed = false;
        var runs = new List<(string, ScheduleRun)>();
        foreach (var group in firing.GroupBy(d => d.Queue))
        {
            var dues = group.ToList();
            try
            {
                if (dues.Count > 1)
                {
                    var status = Await(group.Key.EnqueueBatchAsync(dues.ConvertAll(d => d.Message!), token));
                    if (status is EnqueueStatus.Accepted or EnqueueStatus.Duplicate)
                    {
                        // A replayed message (its occurrence's key already used) is recorded as the first one.
                        runs.AddRange(dues.Select(d => (d.Definition.Name, new ScheduleRun(d.Step.Fire, now, d.Message!.ReplayOf ?? d.Message.Id))));
                        continue;
                    }

                    if (status == EnqueueStatus.StorageUnavailable)
                    {
                        throw new StorageUnavailableException($"Queue '{group.Key.Name}': the store could not take the schedules' messages now.");
                    }
                }

                foreach (var due in dues)
                {
                    runs.Add((due.Definition.Name, Await(EnqueueAsync(due.Definition, due.Queue, due.Message!, due.Step.Fire, now, token))));
                }
            }
            catch (StorageUnavailableException ex)
            {
                // Not recorded: the runs stay pending in a store that keeps pending runs, and a later pass finishes them.
                LogChunkFailed(logger, ex, dues.Count);
                failed = true;
            }
        }

        return runs;
    }

    /// <summary>Finishes each pending run alone, so one that fails cannot stop the others; returns when to retry, if one failed.</summary>
    public DateTimeOffset? FinishAll(IReadOnlyList<PendingRun> pending, DateTimeOffset now, CancellationToken token)
    {
        DateTimeOffset? retry = null;
        foreach (var run in pending)
        {
            try
            {
                Finish(run, now, token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogScheduleFailed(logger, ex, run.Schedule);
                retry = now + Scheduler.RetryDelay;
            }
        }

        return retry;
    }

    /// <summary>
    /// Finishes a run another scheduler claimed and left pending: if its message was stored (the claimant died after
    /// the enqueue) it is only recorded; otherwise it is enqueued now, under the occurrence's key.
    /// </summary>
    private void Finish(PendingRun pending, DateTimeOffset now, CancellationToken token)
    {
        if (Await(store.GetAsync(pending.Schedule, token)) is not { } schedule)
        {
            return; // Deleted since: its pending run went with it.
        }

        var definition = schedule.Definition;
        if (!engine.TryGetQueue(definition.Queue, out var queue))
        {
            Await(store.RecordRunAsync(pending.Schedule, NoQueue(definition, pending.Occurrence, now), token));
            return;
        }

        if (!queue!.IsAccepting)
        {
            return; // Stopping: it stays pending, and a live replica finishes it once this one has stopped.
        }

        LogAdopted(logger, pending.Schedule, pending.Occurrence);
        var run = queue.TryGetMessage(pending.MessageId, out _)
            ? new ScheduleRun(pending.Occurrence, now, pending.MessageId)
            : Await(EnqueueAsync(definition, queue, NewMessage(queue, definition, pending.Occurrence), pending.Occurrence, now, token));
        Await(store.RecordRunAsync(pending.Schedule, run, token));
    }

    public QueueMessage NewMessage(WorkQueue queue, ScheduleDefinition definition, DateTimeOffset? occurrence)
    {
        // An occurrence's message carries a key of its own (issue 15's idempotent enqueue): a store that shares keys
        // among replicas or keeps them across a crash turns any second attempt at the same occurrence into a replay.
        var key = occurrence is { } o && engine.Storage.Features.HasFlag(StoreFeatures.IdempotencyKeys) ? $"schedule:{definition.Name}:{o.UtcTicks}" : null;
        return queue.NewMessage(definition.Payload, traceParent: null, idempotencyKey: key, priority: definition.Priority);
    }

    public static ScheduleRun NoQueue(ScheduleDefinition definition, DateTimeOffset? occurrence, DateTimeOffset now) =>
        new(occurrence, now, null, $"Queue '{definition.Queue}' is not configured.");

    public async ValueTask<ScheduleRun> EnqueueAsync(
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
            LogRefused(logger, definition.Name, definition.Queue, status);
            return new ScheduleRun(occurrence, now, null, $"Queue '{definition.Queue}' refused the message: {status}.");
        }

        return new ScheduleRun(occurrence, now, message.Id);
    }

    private static T Await<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    private static void Await(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
        {
            pending.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>A schedule on its way through a pass.</summary>
    private sealed class Due(StoredSchedule schedule, CronSchedule cron, WorkQueue queue)
    {
        public ScheduleDefinition Definition { get; } = schedule.Definition;

        public CronSchedule Cron { get; } = cron;

        public WorkQueue Queue { get; } = queue;

        /// <summary>The cursor the pass found: the first missed occurrence is the one after it.</summary>
        public DateTimeOffset FirstCursor { get; } = schedule.Cursor;

        public DateTimeOffset Cursor { get; set; } = schedule.Cursor;

        public ScheduleStep Step { get; set; }

        public QueueMessage? Message { get; set; }

        public bool Won { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Schedule {Schedule} could not be served; it is tried again shortly")]
    private static partial void LogScheduleFailed(ILogger logger, Exception ex, string schedule);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} due schedules could not be served together; they are tried again shortly")]
    private static partial void LogChunkFailed(ILogger logger, Exception ex, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule} missed its occurrences from {First:O} (the service was not running); Misfire {Policy}")]
    private static partial void LogMissed(ILogger logger, string schedule, DateTimeOffset? first, MisfirePolicy policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule}: queue {Queue} refused its message ({Status}); this occurrence is lost")]
    private static partial void LogRefused(ILogger logger, string schedule, string queue, EnqueueStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule}: finishing the run for {Occurrence:O}, left pending by a scheduler that died, stopped or failed")]
    private static partial void LogAdopted(ILogger logger, string schedule, DateTimeOffset occurrence);
}
