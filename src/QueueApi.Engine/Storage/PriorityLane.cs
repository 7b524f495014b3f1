namespace QueueApi.Engine.Storage;

/// <summary>How many messages of one priority wait in a queue, and since when the oldest of them waits.</summary>
public sealed record PriorityLane(int Priority, int Queued, DateTimeOffset OldestWaitingSince);
