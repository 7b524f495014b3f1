using System.Collections.Concurrent;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>
/// Priorities in the waiting line: one FIFO lane per level, made on first use. A bit mask says which lanes were
/// ever used; while it holds only the default lane, adds and claims touch that one lane, as before priorities.
/// Otherwise a claim looks at each used lane's head and takes the one with the highest effective priority
/// (<see cref="MessagePriority.Effective"/>), the longer-waiting one on a tie; it reads the clock once, and only
/// when two heads compete and aging is on.
/// </summary>
internal sealed partial class ReadyQueue
{
    private const int DefaultLaneBit = 1 << MessagePriority.Default;

    private readonly ConcurrentQueue<QueueMessage>?[] _lanes = new ConcurrentQueue<QueueMessage>?[MessagePriority.Levels];
    private readonly ConcurrentQueue<QueueMessage> _default = new();
    private readonly TimeProvider _time;
    private readonly long _agingTicks;
    // Only grows: a lane once used stays in the claim's scan (an empty lane costs one IsEmpty look).
    private int _laneMask = DefaultLaneBit;

    /// <param name="capacity">Room for messages in the line and held for scheduled ones.</param>
    /// <param name="time">The clock aging is measured on.</param>
    /// <param name="aging">Per how long a wait a message gains one level; zero turns aging off.</param>
    public ReadyQueue(int capacity, TimeProvider time, TimeSpan aging)
    {
        Capacity = capacity;
        _time = time;
        _agingTicks = aging.Ticks;
        _lanes[MessagePriority.Default] = _default;
    }

    /// <summary>What waits in each non-empty lane and since when its head waits, highest priority first.</summary>
    public IReadOnlyList<PriorityLane> LaneCounts()
    {
        var lanes = new List<PriorityLane>();
        for (var p = MessagePriority.Max; p >= MessagePriority.Min; p--)
        {
            if (Volatile.Read(ref _lanes[p]) is { } lane && lane.TryPeek(out var head))
            {
                lanes.Add(new PriorityLane(p, lane.Count, new DateTimeOffset(head.ReadySinceTicks, TimeSpan.Zero)));
            }
        }

        return lanes;
    }

    private void Push(QueueMessage message)
    {
        var p = message.Priority;
        if (p == MessagePriority.Default)
        {
            _default.Enqueue(message);
            return;
        }

        (Volatile.Read(ref _lanes[p]) ?? NewLane(p)).Enqueue(message);
    }

    private ConcurrentQueue<QueueMessage> NewLane(int priority)
    {
        var made = new ConcurrentQueue<QueueMessage>();
        var lane = Interlocked.CompareExchange(ref _lanes[priority], made, null) ?? made;
        // Set before the first add to the lane, so a taker woken by that add scans it.
        Interlocked.Or(ref _laneMask, 1 << priority);
        return lane;
    }

    private bool IsEmpty()
    {
        var mask = Volatile.Read(ref _laneMask);
        for (var p = MessagePriority.Max; p >= MessagePriority.Min; p--)
        {
            if ((mask & (1 << p)) != 0 && !_lanes[p]!.IsEmpty)
            {
                return false;
            }
        }

        return true;
    }

    private bool TryTakeByPriority(out QueueMessage? message)
    {
        var now = -1L;
        while (true)
        {
            var best = PickLane(ref now);
            if (best is null)
            {
                message = null;
                return false;
            }

            // Another taker may have emptied the lane since the look: look again.
            if (best.TryDequeue(out message) && message.TryMarkClaimed())
            {
                Interlocked.Decrement(ref _count);
                return true;
            }
        }
    }

    /// <summary>The lane whose head goes next, or null when all are empty.</summary>
    private ConcurrentQueue<QueueMessage>? PickLane(ref long now)
    {
        var mask = Volatile.Read(ref _laneMask);
        ConcurrentQueue<QueueMessage>? best = null;
        int bestPriority = 0, bestEffective = -1;
        long bestSince = 0;
        for (var p = MessagePriority.Max; p >= MessagePriority.Min; p--)
        {
            if ((mask & (1 << p)) == 0 || !_lanes[p]!.TryPeek(out var head))
            {
                continue;
            }

            var since = head.ReadySinceTicks;
            if (best is null)
            {
                (best, bestPriority, bestSince) = (_lanes[p], p, since);
                if (_agingTicks <= 0)
                {
                    return best; // Strict priority: the highest non-empty lane.
                }

                continue;
            }

            if (now < 0)
            {
                now = _time.GetUtcNow().UtcTicks;
            }

            if (bestEffective < 0)
            {
                bestEffective = MessagePriority.Effective(bestPriority, bestSince, now, _agingTicks);
            }

            var effective = MessagePriority.Effective(p, since, now, _agingTicks);
            if (effective > bestEffective || (effective == bestEffective && since < bestSince))
            {
                (best, bestEffective, bestSince) = (_lanes[p], effective, since);
            }
        }

        return best;
    }
}
