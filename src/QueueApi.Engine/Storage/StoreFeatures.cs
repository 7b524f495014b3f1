namespace QueueApi.Engine.Storage;

/// <summary>What a storage provider implements of the features added after the storage contract (issues 15 and 16).</summary>
[Flags]
public enum StoreFeatures
{
    None = 0,

    /// <summary>Messages with a due time are kept scheduled (across a restart, if durable) and never run early.</summary>
    DelayedDelivery = 1,

    /// <summary>Idempotency keys are checked and kept for the window (across a restart, if durable).</summary>
    IdempotencyKeys = 2,

    /// <summary>Queued and scheduled messages can be cancelled (<see cref="IQueueStore.CancelAsync"/>).</summary>
    Cancel = 4,

    /// <summary>A message's trace parent is kept with it (across a restart, if durable).</summary>
    TraceContext = 8,

    /// <summary>Messages keep their priority and claims follow the priority rule with aging (issue 16).</summary>
    Priorities = 16,

    All = DelayedDelivery | IdempotencyKeys | Cancel | TraceContext | Priorities,
}
