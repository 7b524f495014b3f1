using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Storage;

/// <summary>A schedule as stored: its definition, the cursor (occurrences after it are still to run) and its last run.</summary>
public sealed record StoredSchedule(ScheduleDefinition Definition, DateTimeOffset Cursor, ScheduleRun? LastRun);
