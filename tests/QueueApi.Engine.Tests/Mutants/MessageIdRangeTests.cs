using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// A batch reserves a range of ids in one step: its first id comes after every id handed out before, and every
/// id handed out after comes after the whole range (other tests take ids at the same time, so only order is pinned).
/// </summary>
public sealed class MessageIdRangeTests
{
    // Differences as signed numbers, so the sequence wrapping around uint stays ordered.
    private static int After(MessageKey later, MessageKey earlier) => unchecked((int)(later.Seq - earlier.Seq));

    [Fact]
    public void ARangeStartsAfterTheLastIdAndTheNextIdComesAfterTheWholeRange()
    {
        for (var i = 0; i < 50; i++)
        {
            var now = DateTimeOffset.UtcNow;
            var before = MessageId.Next(now);
            var first = MessageId.NextRange(now, 3);
            var next = MessageId.Next(now);

            Assert.True(After(first, before) >= 1, $"the range starts at {first.Seq}, not after {before.Seq}");
            Assert.True(After(next, first) >= 3, $"the next id {next.Seq} falls inside the range from {first.Seq}");
        }
    }

    [Fact]
    public void IdsOfOneThreadNeverGoBackInTimeEvenWhenTheClockDoes()
    {
        var now = DateTimeOffset.UtcNow;

        var later = MessageId.Next(now);
        var earlierClock = MessageId.Next(now.AddSeconds(-5));

        Assert.True(earlierClock.Ms >= later.Ms);
    }
}
