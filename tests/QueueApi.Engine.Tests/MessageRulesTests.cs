using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests;

/// <summary>The rules of a message's identity and priority: ids that sort by time and parse back, and aging.</summary>
public sealed class MessageRulesTests
{
    [Theory]
    [InlineData(0, true)]
    [InlineData(9, true)]
    [InlineData(5, true)]
    [InlineData(-1, false)]
    [InlineData(10, false)]
    public void PrioritiesRunFromZeroToNine(int priority, bool valid)
    {
        Assert.Equal(valid, MessagePriority.IsValid(priority));
        Assert.Equal(10, MessagePriority.Levels);
    }

    [Theory]
    [InlineData(5, 0, 9, 10, 5)] // not yet one aging period
    [InlineData(5, 0, 100, 0, 5)] // aging off
    [InlineData(5, 0, 10, 10, 6)] // one whole period
    [InlineData(5, 0, 19, 10, 6)]
    [InlineData(5, 0, 20, 10, 7)]
    [InlineData(5, 0, 40, 10, 9)] // exactly up to the top
    [InlineData(5, 0, 1000, 10, 9)] // never past it
    [InlineData(9, 0, 1000, 10, 9)]
    [InlineData(0, 0, 90, 10, 9)]
    [InlineData(0, 0, 80, 10, 8)]
    [InlineData(3, 50, 50, 10, 3)] // no time waited
    [InlineData(3, 50, 40, 10, 3)] // a clock that reads earlier than the message's readiness
    public void AWaitingMessageGainsALevelPerAgingPeriodUpToNine(int priority, long readySince, long now, long aging, int expected)
    {
        Assert.Equal(expected, MessagePriority.Effective(priority, readySince, now, aging));
    }

    [Fact]
    public void NegativeAgingTurnsAgingOff()
    {
        Assert.Equal(2, MessagePriority.Effective(2, 0, 1_000_000, -1));
    }

    [Fact]
    public void AnIdIsTwelveHexDigitsOfMillisecondsThenEightOfSequenceAndParsesBack()
    {
        var key = new MessageKey(0x0123456789ab, 0xcdef0012);
        var text = key.ToString();

        Assert.Equal("0123456789abcdef0012", text);
        Assert.True(MessageKey.TryParse(text, out var parsed));
        Assert.Equal(key, parsed);
        Assert.True(MessageKey.TryParse("00000000000000000000", out var zero));
        Assert.Equal(new MessageKey(0, 0), zero);
        Assert.True(MessageKey.TryParse("ffffffffffffffffffff", out var top));
        Assert.Equal(new MessageKey(0xffffffffffff, uint.MaxValue), top);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789abcdef001")]
    [InlineData("0123456789abcdef00123")]
    [InlineData("0123456789ABCDEF0012")]
    [InlineData("0123456789abcdef001g")]
    [InlineData("g123456789abcdef0012")]
    [InlineData("0123456789abcdef001/")]
    [InlineData("0123456789abcdef001:")]
    [InlineData("0123456789abcdef001`")]
    public void AnythingElseIsNoId(string text)
    {
        Assert.False(MessageKey.TryParse(text, out var key));
        Assert.Equal(default, key);
    }

    [Fact]
    public void IdsNeverGoBackwardsWhenTheClockDoes()
    {
        // Real time only: the last millisecond is process-wide, and a future one would age every other test's ids.
        var first = MessageId.Next(DateTimeOffset.UtcNow);
        var second = MessageId.Next(DateTimeOffset.UtcNow.AddHours(-1));

        Assert.True(second.Ms >= first.Ms);
        Assert.True(string.CompareOrdinal(second.ToString(), first.ToString()) > 0);
    }

    [Fact]
    public void ABatchsRangeIsConsecutiveAndAfterEarlierIds()
    {
        var now = DateTimeOffset.UtcNow;
        var before = MessageId.Next(now);
        var first = MessageId.NextRange(now, 5);
        var after = MessageId.Next(now);

        Assert.True(first.Ms >= before.Ms);
        // The range holds first.Seq .. first.Seq + 4; other threads may take numbers in between, never inside.
        Assert.True(unchecked(first.Seq - before.Seq) >= 1);
        Assert.True(unchecked(after.Seq - first.Seq) >= 5);
    }
}
