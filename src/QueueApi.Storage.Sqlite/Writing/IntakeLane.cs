namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// One queue's packed rows not yet expanded, ordered by their smallest id, so that finding the rows that may hold
/// a message is a binary search and a short walk back: claims take the oldest messages first, so the rows they
/// touch are at the front, and expanded rows at the front are dropped in bulk.
/// </summary>
internal sealed class IntakeLane
{
    private const int CompactAfter = 1024;

    private readonly List<PackedRow> _rows = [];
    private readonly List<PackedRow> _found = [];
    private int _head;

    public void Add(PackedRow row)
    {
        // Almost always at the end: ids grow with time. A row that overtook an older one goes to its place.
        var at = _rows.Count;
        while (at > _head && _rows[at - 1].Min.CompareTo(row.Min) > 0)
        {
            at--;
        }

        _rows.Insert(at, row);
        for (var i = at; i < _rows.Count; i++)
        {
            var before = i > 0 ? _rows[i - 1].PrefixMax : _rows[i].Max;
            _rows[i].PrefixMax = before.CompareTo(_rows[i].Max) > 0 ? before : _rows[i].Max;
        }
    }

    /// <summary>The rows not expanded whose range holds <paramref name="key"/>; reused by the next call.</summary>
    public List<PackedRow> Covering(IntakeKey key)
    {
        _found.Clear();
        // The first row whose smallest id is above the key: no row from there on can hold it.
        int lo = _head, hi = _rows.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_rows[mid].Min.CompareTo(key) <= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        // Walking back, PrefixMax only falls: once it is below the key, no earlier row reaches it. (Rows dropped by
        // Compact only lower the true prefix maximum, so the stored one stays an upper bound: the walk stays safe.)
        for (var i = lo - 1; i >= _head && _rows[i].PrefixMax.CompareTo(key) >= 0; i--)
        {
            var row = _rows[i];
            if (!row.Expanded && row.Max.CompareTo(key) >= 0)
            {
                _found.Add(row);
            }
        }

        return _found;
    }

    /// <summary>The rows not expanded yet, oldest first (a snapshot: expanding them while walking it is safe).</summary>
    public List<PackedRow> Open() => [.. _rows.Skip(_head).Where(row => !row.Expanded)];

    /// <summary>Drops the expanded rows at the front (after a commit).</summary>
    public void Compact()
    {
        while (_head < _rows.Count && _rows[_head].Expanded)
        {
            _head++;
        }

        if (_head == _rows.Count)
        {
            _rows.Clear();
            _head = 0;
        }
        else if (_head >= CompactAfter && _head * 2 >= _rows.Count)
        {
            _rows.RemoveRange(0, _head);
            _head = 0;
        }
    }
}
