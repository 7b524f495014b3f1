using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Scheduling;

/// <summary>
/// A recurring schedule as declared: on each occurrence of <see cref="Cron"/> in <see cref="TimeZone"/>, one message
/// with <see cref="Payload"/> goes to <see cref="Queue"/>. Validated by <see cref="ScheduleValidator"/> before it is stored.
/// </summary>
public sealed record ScheduleDefinition(
    string Name,
    string Queue,
    string Cron,
    string TimeZone,
    byte[] Payload,
    bool Enabled = true,
    MisfirePolicy Misfire = MisfirePolicy.RunOnce,
    int Priority = MessagePriority.Default,
    ScheduleSource Source = ScheduleSource.Api)
{
    /// <summary>Whether <paramref name="other"/> fires at the same times: then a replaced schedule keeps its place.</summary>
    public bool SameTimingAs(ScheduleDefinition other) =>
        string.Equals(Cron, other.Cron, StringComparison.Ordinal) && string.Equals(TimeZone, other.TimeZone, StringComparison.Ordinal);
}
