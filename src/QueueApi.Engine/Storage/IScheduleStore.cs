using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Storage;

/// <summary>
/// Where recurring schedules and their progress are kept, next to the message storage (memory today; a durable or
/// shared store keeps them across restarts and replicas). The scheduler claims each occurrence by moving a
/// schedule's cursor with a compare-and-set, so of several schedulers over one store exactly one enqueues it.
/// </summary>
/// <remarks>Calls come from the scheduler thread and from request threads; each is short and bounded by its token.</remarks>
public interface IScheduleStore
{
    ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken);

    ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Creates or replaces a schedule. A new one, or one whose cron or time zone changed, starts counting occurrences
    /// after <paramref name="now"/>; a replaced one with the same timing keeps its cursor and its last run.
    /// </summary>
    ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken);

    ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the occurrences up to <paramref name="cursor"/>: moves the schedule's cursor there only if it is still
    /// <paramref name="expected"/>. False when another scheduler (or a change to the schedule) moved it first.
    /// </summary>
    ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken);

    /// <summary>Records what the schedule's last run did (the message it enqueued, or why it could not).</summary>
    ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken);
}
