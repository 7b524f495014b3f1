using System.Collections.Concurrent;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Queues;

/// <summary>
/// In-memory store: a lock-free queue behind a lock-free capacity counter. The counter bounds the queue, so a
/// batch can reserve room for all its messages at once (all or none). Idle workers sleep on a monitor that an
/// add pulses only when someone sleeps, so a busy queue takes no lock on add; a wake goes straight to the
/// worker thread, with no task and no thread-pool hop.
/// </summary>
public sealed class InMemoryQueueStore(int capacity) : IQueueStore
{
    private readonly ConcurrentQueue<QueueMessage> _items = new();
    private readonly object _gate = new();
    private int _count;
    private int _sleepers;
    private volatile bool _completed;

    public int Count => Volatile.Read(ref _count);

    public int Capacity { get; } = capacity;

    public bool TryAdd(QueueMessage message)
    {
        if (!TryReserve(1))
        {
            return false;
        }

        if (_completed)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _items.Enqueue(message);
        Wake(all: false);
        return true;
    }

    public bool TryAddRange(IReadOnlyList<QueueMessage> messages)
    {
        if (!TryReserve(messages.Count))
        {
            return false;
        }

        // The owner completes the store only after in-progress adds have finished, so this holds.
        if (_completed)
        {
            throw new InvalidOperationException("The store was completed while a batch was being added.");
        }

        for (var i = 0; i < messages.Count; i++)
        {
            _items.Enqueue(messages[i]);
        }

        Wake(all: messages.Count > 1);
        return true;
    }

    public TakeResult TryTake(out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The token first: a worker woken to pause (or to crash) must not take one more message.
        cancellationToken.ThrowIfCancellationRequested();
        if (TryTakeNow(out message))
        {
            return TakeResult.Taken;
        }

        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        // Dedicated worker thread: blocking here is the point, but never without a bound, and a token wakes it.
        using var registration = cancellationToken.UnsafeRegister(static s => ((InMemoryQueueStore)s!).Wake(all: true), this);
        lock (_gate)
        {
            // Counted in before looking, and the adder fences before it reads this: no wake-up is lost.
            Interlocked.Increment(ref _sleepers);
            try
            {
                while (true)
                {
                    // Read completion first: every add happened before it, so an empty queue then is empty for good.
                    var completed = _completed;
                    cancellationToken.ThrowIfCancellationRequested();
                    if (TryTakeNow(out message))
                    {
                        return TakeResult.Taken;
                    }

                    if (completed)
                    {
                        return TakeResult.Completed;
                    }

                    var remaining = deadline - Environment.TickCount64;
                    if (remaining <= 0)
                    {
                        return TakeResult.TimedOut;
                    }

                    Monitor.Wait(_gate, (int)Math.Min(remaining, int.MaxValue));
                }
            }
            finally
            {
                Interlocked.Decrement(ref _sleepers);
            }
        }
    }

    public bool TryTakeNow(out QueueMessage? message)
    {
        if (_items.TryDequeue(out message))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Wakes sleeping takers, taking the monitor only when there are any.</summary>
    private void Wake(bool all)
    {
        // Pairs with the taker's increment: the add is visible before the sleeper count is read.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleepers) == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (all)
            {
                Monitor.PulseAll(_gate);
            }
            else
            {
                Monitor.Pulse(_gate);
            }
        }
    }

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
