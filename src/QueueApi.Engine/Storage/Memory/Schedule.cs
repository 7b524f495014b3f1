using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>
/// The in-memory store's scheduled messages: a heap ordered by due time (then by arrival) and one timer on the
/// store's <see cref="TimeProvider"/>, armed for the earliest due time. When it rings, every due message moves to
/// the ready line in due order, which wakes a sleeping worker; an earlier message re-arms it at once. No thread
/// polls, and a <c>FakeTimeProvider</c> drives it. Cancelled messages stay in the heap until their turn and are
/// passed over then.
/// </summary>
internal sealed class Schedule : IDisposable
{
    private const long Never = long.MaxValue;

    private readonly PriorityQueue<QueueMessage, (long Due, long Seq)> _heap = new();
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ReadyQueue _ready;
    private readonly ITimer _timer;
    private long _armedFor = Never;
    private long _seq;
    private int _count;
    private bool _stopped;

    public Schedule(TimeProvider time, ReadyQueue ready)
    {
        _time = time;
        _ready = ready;
        _timer = time.CreateTimer(static s => ((Schedule)s!).MoveDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Scheduled messages not yet due and not cancelled.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds a message whose slot the ready line holds (<see cref="ReadyQueue.TryReserve(int, int)"/>); status Scheduled.</summary>
    public void Add(QueueMessage message)
    {
        lock (_lock)
        {
            message.Status = MessageStatus.Scheduled;
            var due = message.DueAtTicks;
            _heap.Enqueue(message, (due, _seq++));
            _count++;
            if (due < _armedFor && !_stopped)
            {
                Arm(due);
            }
        }
    }

    /// <summary>Takes a scheduled message out for good (a cancel); false if it is not scheduled (any more).</summary>
    public bool TryCancel(QueueMessage message)
    {
        lock (_lock)
        {
            if (message.Status != MessageStatus.Scheduled || !message.TryMarkCancelled())
            {
                return false;
            }

            _count--;
            return true;
        }
    }

    /// <summary>No more moves (the store stops accepting); what is left stays for <see cref="TakeAll"/>.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopped = true;
            _armedFor = Never;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Every scheduled message still waiting, taken out of the schedule (for a stop to settle).</summary>
    public List<QueueMessage> TakeAll()
    {
        var all = new List<QueueMessage>();
        lock (_lock)
        {
            while (_heap.TryDequeue(out var m, out _))
            {
                if (m.TryMarkCancelled())
                {
                    all.Add(m);
                }
            }

            _count = 0;
        }

        return all;
    }

    private void MoveDue()
    {
        lock (_lock)
        {
            _armedFor = Never;
            if (_stopped)
            {
                return;
            }

            var now = _time.GetUtcNow().UtcTicks;
            while (_heap.TryPeek(out var m, out var key) && key.Due <= now)
            {
                _heap.Dequeue();
                if (m.IsCancelled)
                {
                    continue;
                }

                // Under the lock, in due order: a cancel sees it either scheduled or queued, never between.
                m.Status = MessageStatus.Queued;
                _count--;
                _ready.AddDue(m);
            }

            if (_heap.TryPeek(out _, out var next))
            {
                Arm(next.Due);
            }
        }
    }

    private void Arm(long dueTicks)
    {
        _armedFor = dueTicks;
        var ticks = Math.Max(0, dueTicks - _time.GetUtcNow().UtcTicks);
        // Whole milliseconds, rounded up: a timer that rings early only re-arms, but one that rings late is late.
        _timer.Change(TimeSpan.FromMilliseconds(Math.Ceiling(ticks / (double)TimeSpan.TicksPerMillisecond)), Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();
}
