using System.Threading.Channels;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Queues;

/// <summary>
/// In-memory store: an unbounded channel behind a lock-free capacity counter. The counter, not the channel,
/// bounds the queue, so a batch can reserve room for all its messages at once (all or none).
/// </summary>
public sealed class ChannelQueueStore(int capacity) : IQueueStore
{
    private readonly Channel<QueueMessage> _channel = Channel.CreateUnbounded<QueueMessage>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false, AllowSynchronousContinuations = false });

    private int _count;

    public int Count => Volatile.Read(ref _count);

    public int Capacity { get; } = capacity;

    public bool TryAdd(QueueMessage message)
    {
        if (!TryReserve(1))
        {
            return false;
        }

        if (_channel.Writer.TryWrite(message))
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    public bool TryAddRange(IReadOnlyList<QueueMessage> messages)
    {
        if (!TryReserve(messages.Count))
        {
            return false;
        }

        for (var i = 0; i < messages.Count; i++)
        {
            // The owner completes the store only after in-progress adds have finished, so this holds.
            if (!_channel.Writer.TryWrite(messages[i]))
            {
                throw new InvalidOperationException("The store was completed while a batch was being added.");
            }
        }

        return true;
    }

    public TakeResult TryTake(out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (TryTakeNow(out message))
        {
            return TakeResult.Taken;
        }

        var wait = _channel.Reader.WaitToReadAsync(cancellationToken);
        bool more;
        if (wait.IsCompleted)
        {
            more = wait.GetAwaiter().GetResult();
        }
        else
        {
            // Dedicated worker thread: blocking here is the point, but never without a bound.
            var task = wait.AsTask();
            if (!task.Wait(timeout, cancellationToken))
            {
                return TakeResult.TimedOut;
            }

            more = task.GetAwaiter().GetResult();
        }

        if (!more)
        {
            return TakeResult.Completed;
        }

        return TryTakeNow(out message) ? TakeResult.Taken : TakeResult.TimedOut;
    }

    public bool TryTakeNow(out QueueMessage? message)
    {
        if (_channel.Reader.TryRead(out message))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    public void Complete() => _channel.Writer.TryComplete();

    private bool TryReserve(int n)
    {
        var current = Volatile.Read(ref _count);
        while (true)
        {
            if (current + n > Capacity)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _count, current + n, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }
}
