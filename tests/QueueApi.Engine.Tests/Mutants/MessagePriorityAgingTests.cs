using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>Aging raises a waiting message one level per period and never past the top.</summary>
public sealed class MessagePriorityAgingTests
{
    [Theory]
    [InlineData(5, 0, 5)]
    [InlineData(5, 3, 8)]
    [InlineData(5, 4, 9)]
    [InlineData(5, 6, 9)]
    [InlineData(0, 100, 9)]
    [InlineData(9, 1, 9)]
    public void AWaitingMessageGainsOneLevelPerPeriodUpToTheTop(int priority, int periods, int expected)
    {
        const long aging = 1_000;

        Assert.Equal(expected, MessagePriority.Effective(priority, readySinceTicks: 500, nowTicks: 500 + (periods * aging) + 1, agingTicks: aging));
    }

    [Fact]
    public void NoAgingOrNoWaitKeepsThePriority()
    {
        Assert.Equal(3, MessagePriority.Effective(3, 0, 1_000_000, agingTicks: 0));
        Assert.Equal(3, MessagePriority.Effective(3, 1_000, 1_000, agingTicks: 1));
        Assert.Equal(3, MessagePriority.Effective(3, 2_000, 1_000, agingTicks: 1));
    }
}
