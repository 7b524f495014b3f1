namespace QueueApi.Engine.Storage;

/// <summary>The outcome of a bounded claim.</summary>
public enum TakeResult
{
    Taken,
    TimedOut,

    /// <summary>The token fired (no exception: wake-ups are routine).</summary>
    Cancelled,

    /// <summary>The store stopped accepting and holds nothing more for this process to claim.</summary>
    Completed,
}
