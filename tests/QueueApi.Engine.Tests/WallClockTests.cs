using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests;

/// <summary>A worker's wall clock: times from timestamps, one clock read a second.</summary>
public sealed class WallClockTests
{
    [Fact]
    public void TheWallClockCountsFromItsAnchorAndRenewsItEverySecond()
    {
        var time = FakeClock.Create();
        var clock = new WallClock(time);
        var start = time.GetTimestamp();
        var anchor = time.GetUtcNow().UtcTicks;

        Assert.Equal(anchor, clock.UtcTicksOf(start));
        time.Advance(TimeSpan.FromMilliseconds(500));
        // Within the second the anchor stands: the time comes from the timestamp, not a clock read.
        Assert.Equal(anchor + TimeSpan.FromMilliseconds(250).Ticks, clock.UtcTicksOf(start + time.TimestampFrequency / 4));
        Assert.Equal(anchor + TimeSpan.FromSeconds(1).Ticks, clock.UtcTicksOf(start + time.TimestampFrequency));

        // Past the second (or before the anchor) the clock is read again.
        time.Advance(TimeSpan.FromSeconds(2));
        var later = time.GetTimestamp();
        Assert.Equal(time.GetUtcNow().UtcTicks, clock.UtcTicksOf(later));
        Assert.Equal(time.GetUtcNow().UtcTicks, clock.UtcTicksOf(later - 1));
    }
}
