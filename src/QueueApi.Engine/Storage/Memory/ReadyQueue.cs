using System.Collections.Concurrent;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>
/// The in-memory store's waiting line: a lock-free queue behind a lock-free capacity counter. The counter bounds the queue, so a
/// batch can reserve room for all its messages at once (all or none). Idle workers sleep each on its own
/// signal; an add sets one (taking a lock only when someone sleeps), a fired token sets its own worker's, and
/// completion sets all: a wake goes straight to one thread, with no task, no thread-pool hop, no lock convoy.
/// A taker that just finished work may spin briefly first, one at a time; while one spins, adds wake nobody,
/// so steady traffic costs neither side a sleep, a wake call or a context switch.
/// Priorities are lanes (ReadyQueue.Lanes.cs): while every message has the default one, a claim reads one lane as before.
/// </summary>
internal sealed partial class ReadyQueue
{
    // About 10 short spins, then yields (each lets other runnable threads go first): tens of microseconds on an
    // idle machine, longer on a busy one. 30 measured best for HTTP enqueues against 0, 10 (no yields), 60 and 120.
    private const int SpinIterations = 30;

    [ThreadStatic]
    private static Sleeper? t_sleeper;

    private readonly Lock _gate = new();
    private readonly LinkedList<Sleeper> _waiting = new();
    // Capacity in use: messages in the line plus slots held for scheduled messages (_reserved of them).
    private int _count;
    private int _reserved;
    private int _sleepers;
    private int _spinning;
    private volatile bool _completed;

    /// <summary>Messages waiting in the line (not the slots held for scheduled ones, nor cancelled ones).</summary>
    public int Count => Volatile.Read(ref _count) - Volatile.Read(ref _reserved);

    public int Capacity { get; }

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

        Push(message);
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
            Push(messages[i]);
        }

        Wake(all: messages.Count > 1);
        return true;
    }

    /// <summary>
    /// Reserves room for <paramref name="n"/> messages at once (all or none), <paramref name="scheduled"/> of them
    /// held for scheduled messages until they come due (<see cref="AddDue"/>); the others follow by <see cref="AddReserved"/>.
    /// </summary>
    public bool TryReserve(int n, int scheduled)
    {
        if (!TryReserve(n))
        {
            return false;
        }

        Interlocked.Add(ref _reserved, scheduled);
        return true;
    }

    /// <summary>Adds a message whose room was reserved; the owner completes the line only after adds in progress.</summary>
    public void AddReserved(QueueMessage message)
    {
        Push(message);
        Wake(all: false);
    }

    /// <summary>A scheduled message came due: it takes its held slot in the line.</summary>
    public void AddDue(QueueMessage message)
    {
        Interlocked.Decrement(ref _reserved);
        Push(message);
        Wake(all: false);
    }

    /// <summary>Frees the slots of scheduled messages that will never come due (cancelled or dropped).</summary>
    public void Unreserve(int n)
    {
        Interlocked.Add(ref _reserved, -n);
        Interlocked.Add(ref _count, -n);
    }

    /// <summary>A message in the line was cancelled: its room is free now, and takers pass over it.</summary>
    public void Cancelled() => Interlocked.Decrement(ref _count);

    public TakeResult TryTake(out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken, bool spinFirst = false)
    {
        // The token first: a worker woken to pause (or to crash) must not take one more message.
        if (cancellationToken.IsCancellationRequested)
        {
            message = null;
            return TakeResult.Cancelled;
        }

        if (TryTakeNow(out message) || (spinFirst && TrySpinTake(out message, cancellationToken)))
        {
            return TakeResult.Taken;
        }

        var result = Sleep(out message, timeout, cancellationToken);
        // A wake meant for one message may have reached this thread as it took another: pass it on, now that this
        // thread is off the sleepers' list and cannot be the one it wakes.
        if (result == TakeResult.Taken && !IsEmpty())
        {
            Wake(all: false);
        }

        return result;
    }

    private TakeResult Sleep(out QueueMessage? message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        message = null;
        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        var me = t_sleeper ??= new Sleeper();
        me.Signal.Reset();
        // A fired token wakes this thread alone, not every sleeper of the queue.
        using var registration = cancellationToken.UnsafeRegister(static s => ((Sleeper)s!).Signal.Set(), me);
        lock (_gate)
        {
            _waiting.AddLast(me.Node);
        }

        // Counted in before looking, and the adder fences before it reads this: no wake-up is lost.
        Interlocked.Increment(ref _sleepers);
        try
        {
            while (true)
            {
                // Read completion first: every add happened before it, so an empty queue then is empty for good.
                var completed = _completed;
                if (cancellationToken.IsCancellationRequested)
                {
                    return TakeResult.Cancelled;
                }

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

                // Dedicated worker thread: blocking here is the point, but never without a bound.
                me.Signal.Wait((int)Math.Min(remaining, int.MaxValue));
                me.Signal.Reset();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _sleepers);
            lock (_gate)
            {
                _waiting.Remove(me.Node);
            }
        }
    }

    /// <summary>Looks again for a few microseconds, as the one spinning taker; false if another one spins.</summary>
    private bool TrySpinTake(out QueueMessage? message, CancellationToken cancellationToken)
    {
        message = null;
        if (Interlocked.CompareExchange(ref _spinning, 1, 0) != 0)
        {
            return false;
        }

        var taken = false;
        try
        {
            var spinner = default(SpinWait);
            for (var i = 0; i < SpinIterations && !taken && !_completed && !cancellationToken.IsCancellationRequested; i++)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                taken = TryTakeNow(out message);
            }
        }
        finally
        {
            // A full fence: adds that saw this spinner and woke nobody are visible to the taker's next look.
            Interlocked.Exchange(ref _spinning, 0);
        }

        // Adds during the spin woke nobody: if more are waiting, wake a sleeper for them.
        if (taken && !IsEmpty())
        {
            Wake(all: false);
        }

        return taken;
    }

    public bool TryTakeNow(out QueueMessage? message)
    {
        if (Volatile.Read(ref _laneMask) != DefaultLaneBit)
        {
            return TryTakeByPriority(out message);
        }

        while (_default.TryDequeue(out message))
        {
            // One compare-and-swap settles a race with a cancel; a cancelled message already gave its room back.
            if (message.TryMarkClaimed())
            {
                Interlocked.Decrement(ref _count);
                return true;
            }
        }

        return false;
    }

    public void Complete()
    {
        _completed = true;
        Wake(all: true);
    }

    /// <summary>Wakes sleeping takers (one, or all), taking the lock only when there are any.</summary>
    private void Wake(bool all)
    {
        // Pairs with the taker's increment: the add is visible before the sleeper count is read.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleepers) == 0 || (!all && Volatile.Read(ref _spinning) != 0))
        {
            return; // Nobody sleeps, or a spinning taker will see the add.
        }

        lock (_gate)
        {
            for (var node = _waiting.First; node is not null; node = node.Next)
            {
                if (all)
                {
                    node.Value.Signal.Set();
                }
                else if (!node.Value.Signal.IsSet)
                {
                    node.Value.Signal.Set();
                    return;
                }
            }
        }
    }

    /// <summary>One sleeping worker thread's own wake-up signal, reused for the thread's life.</summary>
    private sealed class Sleeper
    {
        public Sleeper() => Node = new LinkedListNode<Sleeper>(this);

        public ManualResetEventSlim Signal { get; } = new(false, spinCount: 0);

        public LinkedListNode<Sleeper> Node { get; }
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
