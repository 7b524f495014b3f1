namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>A message's id in the order ids are given out: milliseconds, then the sequence within them.</summary>
internal readonly record struct IntakeKey(long Ms, uint Seq) : IComparable<IntakeKey>
{
    public int CompareTo(IntakeKey other) => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);
}

/// <summary>
/// One packed row of the <c>intake</c> table as the writer indexes it: its messages' ids lie between
/// <paramref name="min"/> and <paramref name="max"/> (other rows' ids may lie there too: ids are given out
/// before the writer sees them, so concurrent requests' rows overlap a little).
/// </summary>
internal sealed class PackedRow(long id, string queue, IntakeKey min, IntakeKey max, int count)
{
    public long Id { get; } = id;

    public string Queue { get; } = queue;

    public IntakeKey Min { get; } = min;

    public IntakeKey Max { get; } = max;

    public int Count { get; } = count;

    /// <summary>In its lane's index (its group committed); counted in the pending messages until it is expanded.</summary>
    public bool Indexed { get; set; }

    /// <summary>Its messages are rows of <c>messages</c> now (in the group being written, or committed).</summary>
    public bool Expanded { get; set; }

    /// <summary>The largest <see cref="Max"/> of this row and every row before it in its lane: where a search may stop.</summary>
    public IntakeKey PrefixMax { get; set; }
}
