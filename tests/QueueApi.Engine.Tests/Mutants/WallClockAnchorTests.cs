using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The worker's wall clock maps timestamps through its anchor, at the provider's own timestamp frequency.</summary>
public sealed class WallClockAnchorTests
{
    /// <summary>A clock whose timestamps tick a thousand times a second (not once per TimeSpan tick), read from the test.</summary>
    private sealed class MillisecondClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public long Timestamp { get; set; } = 1_000_000;

        public override long TimestampFrequency => 1000;

        public override DateTimeOffset GetUtcNow() => Now;

        public override long GetTimestamp() => Timestamp;
    }

    [Fact]
    public void ATimestampAtTheAnchorMapsToTheAnchorEvenWhenReadLater()
    {
        var time = FakeClock.Create();
        var clock = new WallClock(time);
        var start = time.GetTimestamp();
        var anchor = clock.UtcTicksOf(start);

        // The same timestamp read again later is the same moment: no new clock read moves it.
        time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(anchor, clock.UtcTicksOf(start));
    }

    [Fact]
    public void TimestampsAreScaledByTheProvidersFrequency()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var time = new MillisecondClock(start);
        var clock = new WallClock(time);

        Assert.Equal(start.UtcTicks, clock.UtcTicksOf(time.Timestamp));
        // 250 timestamps at 1000 a second are 250 ms, wherever the wall clock reads by now.
        time.Now = start.AddHours(1);
        Assert.Equal(start.AddMilliseconds(250).UtcTicks, clock.UtcTicksOf(time.Timestamp + 250));
    }
}
