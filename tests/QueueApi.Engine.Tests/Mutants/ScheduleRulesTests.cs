using QueueApi.Engine.Configuration;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// The small rules under the scheduler: what a step decides at the edges of the grace, how a cron and zone parse,
/// what a configured schedule defaults to, and the argument checks of the validator and the store's batch calls.
/// </summary>
public sealed class ScheduleRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    private static CronSchedule EveryMinute()
    {
        Assert.True(CronSchedule.TryParse("* * * * *", "UTC", out var cron, out _, out _));
        return cron!;
    }

    [Fact]
    public void ANotYetDueOccurrenceIsWaitedForAndNotMissed() =>
        Assert.Equal(new ScheduleStep(null, null, T0.AddMinutes(1), false), ScheduleStep.Decide(EveryMinute(), T0, T0.AddSeconds(30), Grace, MisfirePolicy.RunOnce));

    [Fact]
    public void AnOccurrenceExactlyAGraceLateIsStillOnTime()
    {
        var due = T0.AddMinutes(1);
        Assert.Equal(new ScheduleStep(due, due, null, false), ScheduleStep.Decide(EveryMinute(), T0, due + Grace, Grace, MisfirePolicy.RunOnce));
    }

    [Theory]
    [InlineData(MisfirePolicy.RunOnce, true)]
    [InlineData(MisfirePolicy.Skip, false)]
    public void AnOccurrenceOlderThanTheGraceIsMissed(MisfirePolicy misfire, bool catchUp)
    {
        var now = T0.AddMinutes(1) + Grace + TimeSpan.FromTicks(1);
        Assert.Equal(new ScheduleStep(now, catchUp ? T0.AddMinutes(1) : null, null, true), ScheduleStep.Decide(EveryMinute(), T0, now, Grace, misfire));
    }

    [Fact]
    public void ADecisionNeedsACron() =>
        Assert.Throws<ArgumentNullException>(() => ScheduleStep.Decide(null!, T0, T0, Grace, MisfirePolicy.RunOnce));

    [Theory]
    [InlineData("* * * * *", "Nowhere/Zone")]
    [InlineData("not a cron", "UTC")]
    public void ACronOrZoneThatDoesNotParseGivesNoSchedule(string cron, string zone)
    {
        Assert.False(CronSchedule.TryParse(cron, zone, out var schedule, out _, out _));
        Assert.Null(schedule);
    }

    [Fact]
    public void AValidationNeedsADefinition() =>
        Assert.Throws<ArgumentNullException>(() => ScheduleValidator.Validate(null!, ["q"], out _));

    [Fact]
    public void AMissingPayloadIsAPayloadError()
    {
        var definition = new ScheduleDefinition("s", "q", "* * * * *", "UTC", null!);
        Assert.Equal("payload", Assert.Single(ScheduleValidator.Validate(definition, ["q"], out _)).Field);
    }

    [Fact]
    public void AConfiguredScheduleDefaultsToUtcEnabledAndNoQueueOrCron()
    {
        var options = new ScheduleOptions { Payload = null! };

        var definition = options.ToDefinition("n");

        Assert.Equal(("n", "", "", "UTC", true, ScheduleSource.Configuration), (definition.Name, definition.Queue, definition.Cron, definition.TimeZone, definition.Enabled, definition.Source));
        Assert.Empty(definition.Payload);
        Assert.Equal("{}", System.Text.Encoding.UTF8.GetString(new ScheduleOptions().ToDefinition("n").Payload));
    }

    [Fact]
    public async Task TheStoresDefaultBatchCallsNeedTheirBatch()
    {
        IScheduleStore store = new MemoryScheduleStore();
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.TryClaimManyAsync(null!, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.RecordRunsAsync(null!, CancellationToken.None));
    }
}
