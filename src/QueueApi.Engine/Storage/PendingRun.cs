namespace QueueApi.Engine.Storage;

/// <summary>
/// An occurrence claimed by a scheduler and not yet recorded as run: the message for it is about to be enqueued with
/// the id <see cref="MessageId"/>. A store that keeps these lets another scheduler finish the run if this one dies
/// between the claim and <see cref="IScheduleStore.RecordRunAsync"/>.
/// </summary>
public sealed record PendingRun(string Schedule, DateTimeOffset Occurrence, string MessageId);
