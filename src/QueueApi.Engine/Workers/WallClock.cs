namespace QueueApi.Engine.Workers;

/// <summary>
/// Wall-clock time from timestamps, for one thread: an anchor pair renewed each second, so a message needs one
/// clock read (a timestamp) instead of two.
/// </summary>
internal sealed class WallClock(TimeProvider time)
{
    private readonly double _ticksPerTimestamp = TimeSpan.TicksPerSecond / (double)time.TimestampFrequency;
    private long _anchorTimestamp = long.MinValue / 2;
    private long _anchorUtcTicks;

    /// <summary>UTC ticks of a timestamp; renews the anchor when it is a second old (a clock read a second).</summary>
    public long UtcTicksOf(long timestamp)
    {
        var since = timestamp - _anchorTimestamp;
        if (since < 0 || since > time.TimestampFrequency)
        {
            _anchorUtcTicks = time.GetUtcNow().UtcTicks;
            _anchorTimestamp = timestamp;
            since = 0;
        }

        return _anchorUtcTicks + (long)(since * _ticksPerTimestamp);
    }
}
