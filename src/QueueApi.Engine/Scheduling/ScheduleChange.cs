namespace QueueApi.Engine.Scheduling;

/// <summary>What became of a request to change a schedule.</summary>
public enum ScheduleChange
{
    Created,
    Replaced,
    Deleted,
    Triggered,
    NotFound,

    /// <summary>Declared in configuration: it changes only there.</summary>
    ReadOnly,

    /// <summary>The definition is not valid; the errors say why.</summary>
    Invalid,
}
