using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Scheduling;

/// <summary>
/// What every <see cref="IScheduleStore"/> must do. A store plugs in with <see cref="OpenStore"/>: each call gives
/// a store over this test's data (a durable store: a new instance over the same file, as a restart or another
/// replica would open it).
/// </summary>
public abstract class ScheduleStoreContractTests
{
    protected static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected abstract IScheduleStore OpenStore();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AStoredScheduleReadsBackFieldForField()
    {
        var store = OpenStore();
        var definition = new ScheduleDefinition("nightly", "q", "0 3 * * *", "Europe/Berlin", "{\"a\": 1}"u8.ToArray(), false, MisfirePolicy.Skip, 8, ScheduleSource.Configuration);

        await store.PutAsync(definition, T0, Ct);
        var read = (await store.GetAsync("nightly", Ct))!;

        Assert.Equal((definition.Name, definition.Queue, definition.Cron, definition.TimeZone, definition.Enabled, definition.Misfire, definition.Priority, definition.Source),
            (read.Definition.Name, read.Definition.Queue, read.Definition.Cron, read.Definition.TimeZone, read.Definition.Enabled, read.Definition.Misfire, read.Definition.Priority, read.Definition.Source));
        Assert.Equal(definition.Payload, read.Definition.Payload);
        Assert.Equal(T0, read.Cursor);
        Assert.Null(read.LastRun);
        Assert.Null(await store.GetAsync("other", Ct));
    }

    [Fact]
    public async Task AReplacedScheduleKeepsItsPlaceOnlyWhileItsTimingIsTheSame()
    {
        var store = OpenStore();
        await store.PutAsync(SchedulerFixture.Definition("0 * * * *"), T0, Ct);
        await store.RecordRunAsync("s", new ScheduleRun(T0, T0, "m1"), Ct);

        var samePlace = await store.PutAsync(SchedulerFixture.Definition("0 * * * *") with { Priority = 7 }, T0.AddHours(5), Ct);
        var fresh = await store.PutAsync(SchedulerFixture.Definition("30 * * * *"), T0.AddHours(6), Ct);

        Assert.Equal(T0, samePlace.Cursor);
        Assert.Equal(T0.AddHours(6), fresh.Cursor);
        Assert.Equal("m1", (await store.GetAsync("s", Ct))!.LastRun!.MessageId);
    }

    [Fact]
    public async Task TheCursorMovesOnlyFromTheValueThatWasRead()
    {
        var store = OpenStore();
        await store.PutAsync(SchedulerFixture.Definition("* * * * *"), T0, Ct);

        Assert.True(await store.TryAdvanceAsync("s", T0, T0.AddMinutes(1), Ct));
        Assert.False(await store.TryAdvanceAsync("s", T0, T0.AddMinutes(2), Ct)); // another scheduler read T0 too
        Assert.False(await store.TryAdvanceAsync("nope", T0, T0.AddMinutes(1), Ct));
        Assert.Equal(T0.AddMinutes(1), (await store.GetAsync("s", Ct))!.Cursor);
    }

    /// <summary>A batch of claims is decided claim by claim, answered in order, and moves only the winners' cursors.</summary>
    [Fact]
    public async Task ManyClaimsAtOnceAreEachDecidedAloneAndAnsweredInOrder()
    {
        var store = OpenStore();
        foreach (var name in new[] { "a", "b", "c" })
        {
            await store.PutAsync(SchedulerFixture.Definition("* * * * *", name: name), T0, Ct);
        }

        Assert.True(await store.TryAdvanceAsync("b", T0, T0.AddMinutes(1), Ct)); // another scheduler took b's first

        var won = await store.TryClaimManyAsync(
            [new("a", T0, T0.AddMinutes(1), null), new("b", T0, T0.AddMinutes(1), null), new("nope", T0, T0.AddMinutes(1), null), new("c", T0, T0.AddMinutes(2), null)], Ct);

        Assert.Equal([true, false, false, true], won);
        Assert.Equal([T0.AddMinutes(1), T0.AddMinutes(1), T0.AddMinutes(2)], (await store.ListAsync(Ct)).Select(s => s.Cursor));
        Assert.Empty(await store.TryClaimManyAsync([], Ct));
    }

    [Fact]
    public async Task ManyRunsAtOnceAreEachRecorded()
    {
        var store = OpenStore();
        await store.PutAsync(SchedulerFixture.Definition("* * * * *", name: "a"), T0, Ct);
        await store.PutAsync(SchedulerFixture.Definition("* * * * *", name: "b"), T0, Ct);

        await store.RecordRunsAsync([("a", new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(1), "m1")), ("b", new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(1), null, "Queue 'q' refused the message: Full."))], Ct);
        await store.RecordRunsAsync([], Ct);

        Assert.Equal(
            [new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(1), "m1"), new ScheduleRun(T0.AddMinutes(1), T0.AddMinutes(1), null, "Queue 'q' refused the message: Full.")],
            (await store.ListAsync(Ct)).Select(s => s.LastRun));
    }

    [Fact]
    public async Task RunsAreRecordedAndADeletedScheduleIsGone()
    {
        var store = OpenStore();
        await store.PutAsync(SchedulerFixture.Definition("* * * * *", name: "b"), T0, Ct);
        await store.PutAsync(SchedulerFixture.Definition("* * * * *", name: "a"), T0, Ct);
        await store.RecordRunAsync("a", new ScheduleRun(null, T0.AddSeconds(3), null, "Queue 'q' refused the message: Full."), Ct);

        Assert.Equal(["a", "b"], (await store.ListAsync(Ct)).Select(s => s.Definition.Name));
        Assert.Equal(new ScheduleRun(null, T0.AddSeconds(3), null, "Queue 'q' refused the message: Full."), (await store.GetAsync("a", Ct))!.LastRun);
        Assert.True(await store.DeleteAsync("a", Ct));
        Assert.False(await store.DeleteAsync("a", Ct));
        Assert.Equal(["b"], (await store.ListAsync(Ct)).Select(s => s.Definition.Name));
    }

    /// <summary>Two replicas, each with its own store instance over the shared data, race on every occurrence.</summary>
    [Fact]
    public async Task TwoSchedulersOverTheSameDataEnqueueEachOccurrenceOnce()
    {
        const int schedules = 10, seconds = 10;
        var time = new FakeTimeProvider(T0);
        using var a = new SchedulerFixture(time, OpenStore());
        using var b = new SchedulerFixture(time, OpenStore());
        for (var i = 0; i < schedules; i++)
        {
            a.Put(SchedulerFixture.Definition("* * * * * *", name: $"s{i}"));
        }

        for (var second = 0; second < seconds; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            using var start = new Barrier(2);
            await Task.WhenAll(new[] { a, b }.Select(r => TestEngine.RunOnThreads(1, _ =>
            {
                start.SignalAndWait(Ct);
                r.Scheduler.RunDue();
            }))).WaitAsync(TestEngine.Timeout, Ct);
        }

        Assert.Equal(schedules * seconds, a.Accepted + b.Accepted);
        Assert.All(await a.Store.ListAsync(Ct), s => Assert.Equal(T0.AddSeconds(seconds), s.LastRun!.Occurrence));
    }
}

/// <summary>The in-memory schedule store against the contract: one instance is the shared data.</summary>
public sealed class MemoryScheduleStoreContractTests : ScheduleStoreContractTests
{
    private readonly MemoryScheduleStore _store = new();

    protected override IScheduleStore OpenStore() => _store;
}

/// <summary>What a durable schedule store adds: schedules and their progress outlive the process.</summary>
public abstract class DurableScheduleStoreContractTests : ScheduleStoreContractTests
{
    [Fact]
    public void AfterARestartOverTheStoreAMissedOccurrenceRunsOnce()
    {
        var time = new FakeTimeProvider(T0);
        using (var before = new SchedulerFixture(time, OpenStore()))
        {
            before.Put(SchedulerFixture.Definition("0 * * * *"));
            before.RunUntil(T0.AddHours(2));
            Assert.Equal(2, before.Accepted);
        }

        time.Advance(TimeSpan.FromHours(5));
        using var after = new SchedulerFixture(time, OpenStore());
        after.Scheduler.RunDue();

        Assert.Equal(1, after.Accepted);
        Assert.Equal(T0.AddHours(3), after.Get().LastRun!.Occurrence);
    }
}
