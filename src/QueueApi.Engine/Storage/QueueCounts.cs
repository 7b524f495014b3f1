namespace QueueApi.Engine.Storage;

/// <summary>The books of one queue.</summary>
/// <remarks>
/// Always accepted = succeeded + failed + deadLettered + dropped + queued + inFlight + retrying + scheduled (exact
/// once the queue is quiet). A durable store keeps them across restarts: a redelivered message is not counted twice.
/// </remarks>
public sealed record QueueCounts(
    long Accepted,
    long Succeeded,
    long Failed,
    long DeadLettered,
    long Dropped,
    int Queued,
    int InFlight,
    int Retrying,
    IReadOnlyDictionary<string, long> DroppedReasons,
    int Scheduled = 0)
{
    /// <summary>True when every accepted message is in exactly one bucket.</summary>
    public bool Balanced => Accepted == Succeeded + Failed + DeadLettered + Dropped + Queued + InFlight + Retrying + Scheduled;
}
