namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>A message's id in the order ids are given out: milliseconds, then the sequence within them.</summary>
internal readonly record struct IntakeKey(long Ms, uint Seq) : IComparable<IntakeKey>
{
    public int CompareTo(IntakeKey other) => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);
}

/// <summary>
/// One packed row of the <c>intake</c> table as the writer indexes it: its messages' ids lie between
/// <paramref name="Min"/> and <paramref name="Max"/> (other rows' ids may lie there too: ids are given out
/// before the writer sees them, so concurrent requests' rows overlap a little).
/// </summary>
internal sealed record PackedRow(long Id, string Queue, IntakeKey Min, IntakeKey Max, int Count)
{
    /// <summary>Its messages are rows of <c>messages</c> now (in the group being written, or committed).</summary>
    public bool Expanded { get; set; }

    /// <summary>The largest <see cref="Max"/> of this row and every row before it in its lane: where a search may stop.</summary>
    public IntakeKey PrefixMax { get; set; }
}
