using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Scheduling;

/// <summary>A schedule as shown: its definition, when it runs next (null when disabled or never again) and its last run.</summary>
public sealed record ScheduleInfo(ScheduleDefinition Definition, DateTimeOffset? NextRunAt, ScheduleRun? LastRun);
