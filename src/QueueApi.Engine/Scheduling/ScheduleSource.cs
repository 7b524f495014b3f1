namespace QueueApi.Engine.Scheduling;

/// <summary>Where a schedule was declared: over the API (managed there) or in configuration (read-only over the API).</summary>
public enum ScheduleSource
{
    Api,
    Configuration,
}
