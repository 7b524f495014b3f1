namespace QueueApi.Storage.Postgres;

/// <summary>
/// Where this replica's claims last ended in each priority lane: the (ready_at, pos) of the last row claimed there.
/// The head of every lane of the ready index fills with entries of rows already claimed (dead until vacuum), and a
/// claim from the start of each lane steps over all of them; a floored claim starts above them instead.
/// </summary>
/// <remarks>
/// A row can be ready below a floor: a retry coming due, a rescue, a requeue, a replica whose clock is behind, or a
/// row a concurrent claim locked and then did not keep. So the floors are a hint only: every fallback poll claims
/// from the start, and so does a claim whose floored attempt found nothing; such a row waits at most one poll.
/// What this replica commits itself lowers the floors at once (<see cref="Lower"/>): strict priorities within a
/// replica hold as before.
/// </remarks>
internal sealed class ClaimFloors
{
    /// <summary>No floor: the bounds of a claim from the start of every lane.</summary>
    public static readonly Bounds None = new(Filled(long.MinValue), Filled(long.MinValue), 0, Full: true);

    private const int Lanes = 10;
    private readonly Lock _gate = new();
    private readonly long[] _ready = Filled(long.MinValue);
    private readonly long[] _pos = Filled(long.MinValue);
    private readonly long _interval;
    private long _fullAt = long.MinValue;
    private long _lowered;

    /// <param name="pollInterval">The fallback poll: at least this often a claim starts from the start again.</param>
    public ClaimFloors(TimeSpan pollInterval) => _interval = (long)pollInterval.TotalMilliseconds;

    /// <summary>The floors for the next claim, or <see cref="None"/> when a full scan is due (noted as done).</summary>
    public Bounds Next()
    {
        var now = Environment.TickCount64;
        lock (_gate)
        {
            if (_fullAt == long.MinValue || now - _fullAt >= _interval)
            {
                _fullAt = now;
                return None with { Epoch = _lowered };
            }

            return new Bounds((long[])_ready.Clone(), (long[])_pos.Clone(), _lowered, Full: false);
        }
    }

    /// <summary>
    /// Raises each lane's floor to the last row claimed there by a claim that began with <paramref name="from"/>
    /// (concurrent claims: a floor never falls), unless this replica committed messages since it began.
    /// </summary>
    public void Raise(List<Buffered> rows, Bounds from)
    {
        lock (_gate)
        {
            if (from.Epoch != _lowered)
            {
                return; // A row committed meanwhile may lie below what that claim took: the next claim raises.
            }

            foreach (var r in rows)
            {
                var lane = r.Message.Priority;
                if (lane is >= 0 and < Lanes && (r.ReadyAt > _ready[lane] || (r.ReadyAt == _ready[lane] && r.Pos > _pos[lane])))
                {
                    _ready[lane] = r.ReadyAt;
                    _pos[lane] = r.Pos;
                }
            }
        }
    }

    /// <summary>
    /// This replica committed messages: their lanes' floors fall to below them (a message's ready time is taken when
    /// it is made, so a commit can land below rows claimed before it), and claims under way do not raise them.
    /// </summary>
    public void Lower(IEnumerable<(int Lane, long ReadyAt)> committed)
    {
        lock (_gate)
        {
            _lowered++;
            foreach (var (lane, readyAt) in committed)
            {
                if (lane is >= 0 and < Lanes && readyAt <= _ready[lane])
                {
                    _ready[lane] = readyAt;
                    _pos[lane] = long.MinValue;
                }
            }
        }
    }

    private static long[] Filled(long value) => Enumerable.Repeat(value, Lanes).ToArray();

    /// <summary>Per priority lane (index = priority), the row a claim starts above.</summary>
    internal sealed record Bounds(long[] Ready, long[] Pos, long Epoch, bool Full);
}
