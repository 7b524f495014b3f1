namespace QueueApi.Engine.Storage;

/// <summary>
/// One run of a schedule: the occurrence it was for (null for a manual trigger), when it ran, the id of the message
/// it enqueued, or the error that kept it from enqueuing.
/// </summary>
public sealed record ScheduleRun(DateTimeOffset? Occurrence, DateTimeOffset At, string? MessageId, string? Error = null);
