namespace QueueApi.Engine.Storage;

/// <summary>
/// One claim of a batch (<see cref="IScheduleStore.TryClaimManyAsync"/>): move schedule <see cref="Name"/>'s cursor
/// from <see cref="Expected"/> to <see cref="Cursor"/>, noting <see cref="Pending"/> (the occurrence about to be enqueued).
/// </summary>
public sealed record ScheduleClaim(string Name, DateTimeOffset Expected, DateTimeOffset Cursor, PendingRun? Pending);
