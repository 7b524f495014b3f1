namespace QueueApi.Engine.Scheduling;

/// <summary>What a schedule does about occurrences missed while no scheduler ran (the service was down or stalled).</summary>
public enum MisfirePolicy
{
    /// <summary>One catch-up message for all that was missed, then on schedule again.</summary>
    RunOnce,

    /// <summary>Nothing for what was missed: the next occurrence on time is the next run.</summary>
    Skip,
}
