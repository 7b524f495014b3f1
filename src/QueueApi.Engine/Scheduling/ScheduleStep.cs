namespace QueueApi.Engine.Scheduling;

/// <summary>
/// What a schedule does next, decided from its cursor (occurrences after it are still to run) and the clock: claim
/// up to <see cref="NewCursor"/> and enqueue one message for <see cref="Fire"/> (if any), or wait until <see cref="Next"/>.
/// </summary>
/// <remarks>
/// An occurrence seen within <c>grace</c> of its time is on time and runs. One older than that was missed (the service
/// was down or stalled): everything missed up to now collapses into one step, which with <see cref="MisfirePolicy.RunOnce"/>
/// enqueues one catch-up message (for the first missed occurrence) and with <see cref="MisfirePolicy.Skip"/> none.
/// </remarks>
public readonly record struct ScheduleStep(DateTimeOffset? NewCursor, DateTimeOffset? Fire, DateTimeOffset? Next, bool Missed)
{
    public static ScheduleStep Decide(CronSchedule cron, DateTimeOffset cursor, DateTimeOffset now, TimeSpan grace, MisfirePolicy misfire)
    {
        ArgumentNullException.ThrowIfNull(cron);
        var first = cron.Next(cursor);
        if (first is not { } due || due > now)
        {
            return new(null, null, first, false);
        }

        if (due >= now - grace)
        {
            return new(due, due, null, false);
        }

        return new(now, misfire == MisfirePolicy.RunOnce ? due : null, null, true);
    }
}
