namespace QueueApi.Engine.Storage;

/// <summary>
/// What a stop left in a queue's store once its workers were joined: messages dropped (counted, with the reason),
/// or kept stored for the next start (a durable store). One of the two is always 0.
/// </summary>
public readonly record struct StopLeftover(int Dropped, int Kept);
