using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Queues;

/// <summary>
/// Where a queue keeps the messages that wait for a worker. The seam for a durable store later:
/// writes never block, reads wait with a timeout and a token.
/// </summary>
internal interface IReadyQueue
{
    int Count { get; }

    int Capacity { get; }

    /// <summary>Adds one message if there is room; never waits.</summary>
    bool TryAdd(QueueMessage message);

    /// <summary>Adds all messages or none, if there is room for all; never waits.</summary>
    bool TryAddRange(IReadOnlyList<QueueMessage> messages);

    /// <summary>
    /// Takes the next message, waiting up to <paramref name="timeout"/>. With <paramref name="spinFirst"/> (the taker
    /// just finished work, so traffic is flowing) the store may look again briefly before it puts the taker to sleep.
    /// </summary>
    /// <returns>
    /// <see cref="TakeResult.Taken"/>, <see cref="TakeResult.TimedOut"/>, <see cref="TakeResult.Cancelled"/> when the
    /// token fired (no exception: wake-ups are routine), or <see cref="TakeResult.Completed"/> once the store was
    /// completed and is empty.
    /// </returns>
    TakeResult TryTake(out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken, bool spinFirst = false);

    /// <summary>Takes a message only if one is ready; for sweeping what is left at shutdown.</summary>
    bool TryTakeNow(out QueueMessage? message);

    /// <summary>No more adds; readers still get what is stored, then <see cref="TakeResult.Completed"/>.</summary>
    void Complete();
}
