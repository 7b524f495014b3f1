using QueueApi.Engine.Messages;

namespace QueueApi.Storage.Postgres;

/// <summary>A message claimed into this replica's buffer: its row, its claim number and since when it is ready.</summary>
internal readonly record struct Buffered(QueueMessage Message, long Pos, int Claims, long ReadyAt);

/// <summary>
/// One queue's claimed, not yet handed-out messages: the best by the priority rule first, equal ones in ready
/// order. It holds at most a few claim batches, so a take scans them all (effective priorities move with the
/// clock, so no order kept at insertion would stay right); that costs far less than the round trip that filled it.
/// </summary>
internal sealed class ClaimBuffer
{
    private readonly List<Buffered> _items = [];
    private readonly Lock _gate = new();
    private int _count;

    public bool IsEmpty => Volatile.Read(ref _count) == 0;

    public void Add(List<Buffered> rows)
    {
        lock (_gate)
        {
            _items.AddRange(rows);
            _count = _items.Count;
        }
    }

    /// <summary>Takes the best message at <paramref name="now"/> (UTC ticks) with aging <paramref name="agingTicks"/> (0: off).</summary>
    public bool TryTake(long now, long agingTicks, out Buffered taken)
    {
        lock (_gate)
        {
            if (_items.Count == 0)
            {
                taken = default;
                return false;
            }

            var best = 0;
            var bestEffective = Effective(_items[0], now, agingTicks);
            for (var i = 1; i < _items.Count; i++)
            {
                var item = _items[i];
                var effective = Effective(item, now, agingTicks);
                var top = _items[best];
                if (effective > bestEffective || (effective == bestEffective
                    && (item.ReadyAt < top.ReadyAt || (item.ReadyAt == top.ReadyAt && item.Pos < top.Pos))))
                {
                    best = i;
                    bestEffective = effective;
                }
            }

            taken = _items[best];
            _items.RemoveAt(best);
            _count = _items.Count;
            return true;
        }
    }

    /// <summary>The lowest priority buffered; <see cref="int.MaxValue"/> when empty.</summary>
    public int LowestPriority()
    {
        lock (_gate)
        {
            var lowest = int.MaxValue;
            foreach (var b in _items)
            {
                lowest = Math.Min(lowest, b.Message.Priority);
            }

            return lowest;
        }
    }

    /// <summary>The lowest effective priority buffered at <paramref name="now"/>; -1 when empty.</summary>
    public int LowestEffective(long now, long agingTicks)
    {
        lock (_gate)
        {
            var lowest = int.MaxValue;
            foreach (var b in _items)
            {
                lowest = Math.Min(lowest, Effective(b, now, agingTicks));
            }

            return lowest == int.MaxValue ? -1 : lowest;
        }
    }

    /// <summary>Empties the buffer; says how many it held.</summary>
    public int Clear() => Drain().Count;

    /// <summary>Empties the buffer; what it held.</summary>
    public List<Buffered> Drain()
    {
        lock (_gate)
        {
            var rows = _items.ToList();
            _items.Clear();
            _count = 0;
            return rows;
        }
    }

    private static int Effective(in Buffered b, long now, long agingTicks) =>
        MessagePriority.Effective(b.Message.Priority, b.ReadyAt, now, agingTicks);
}
