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

    /// <summary>
    /// <see cref="TryAdvanceAsync"/>, and in the same step notes <paramref name="pending"/> (the occurrence whose message
    /// is about to be enqueued), so that a scheduler dying before <see cref="RecordRunAsync"/> leaves it for another to
    /// finish (<see cref="AdoptPendingRunsAsync"/>). False also when that occurrence was claimed before. A store that
    /// keeps no pending runs only advances: a crash between the claim and the enqueue loses that occurrence there.
    /// </summary>
    ValueTask<bool> TryClaimAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, PendingRun? pending, CancellationToken cancellationToken) =>
        TryAdvanceAsync(name, expected, cursor, cancellationToken);

    /// <summary>
    /// Pending runs whose scheduler died (or that this scheduler left in a pass that failed), now this scheduler's to
    /// finish: each exactly once, whoever else asks at the same time. Empty for a store that keeps none.
    /// </summary>
    ValueTask<IReadOnlyList<PendingRun>> AdoptPendingRunsAsync(CancellationToken cancellationToken) => new([]);

    /// <summary>
    /// How long a scheduler may sleep without looking at the store again, though nothing is due: a store shared by
    /// replicas is changed by the others, whose changes cannot wake this one. Null: only local changes, which wake it.
    /// </summary>
    TimeSpan? RefreshInterval => null;

    /// <summary>
    /// Several claims in one step: a store behind round trips or commits makes them one statement or one transaction,
    /// so a burst of occurrences due together costs a few writes, not one per schedule. Each claim is still decided
    /// alone, as <see cref="TryClaimAsync"/> decides it; the answers are in the claims' order. A failure fails them all.
    /// </summary>
    async ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(IReadOnlyList<ScheduleClaim> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var won = new bool[claims.Count];
        for (var i = 0; i < won.Length; i++)
        {
            var c = claims[i];
            won[i] = await TryClaimAsync(c.Name, c.Expected, c.Cursor, c.Pending, cancellationToken).ConfigureAwait(false);
        }

        return won;
    }

    /// <summary>
    /// Records what the schedule's last run did (the message it enqueued, or why it could not); for an occurrence it
    /// also closes its pending run. A shared store keeps the latest occurrence's run when an older one finishes late.
    /// </summary>
    ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken);

    /// <summary><see cref="RecordRunAsync"/> for several schedules in one step (one statement or one transaction).</summary>
    async ValueTask RecordRunsAsync(IReadOnlyList<(string Name, ScheduleRun Run)> runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        foreach (var (name, run) in runs)
        {
            await RecordRunAsync(name, run, cancellationToken).ConfigureAwait(false);
        }
    }
}
