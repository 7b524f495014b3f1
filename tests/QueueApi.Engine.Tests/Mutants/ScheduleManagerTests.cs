using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Hosting;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// The schedules as the API manages them: configured ones are read-only and synced at start-up, API ones are
/// validated, created, replaced and deleted, and every change wakes the scheduler thread.
/// </summary>
public sealed class ScheduleManagerTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static ScheduleManager Manager(ScheduleHarness h, params (string Name, ScheduleOptions Options)[] configured)
    {
        var options = new QueueApiOptions();
        foreach (var (name, o) in configured)
        {
            options.Schedules[name] = o;
        }

        return new ScheduleManager(h.Store, h.Scheduler, h.Engine, h.Time, Options.Create(options));
    }

    private static ScheduleOptions Configured(string cron = "0 0 1 1 *") => new() { Queue = "q", Cron = cron };

    [Fact]
    public async Task SyncStoresTheConfiguredSchedulesAndDropsOnlyConfiguredOnesNoLongerDeclared()
    {
        using var h = new ScheduleHarness();
        h.Put(ScheduleHarness.Definition("gone") with { Source = ScheduleSource.Configuration });
        h.Put(ScheduleHarness.Definition("api"));
        var manager = Manager(h, ("kept", Configured()));

        await manager.SyncConfigurationAsync(None);

        Assert.Null(h.Get("gone"));
        Assert.Equal(ScheduleSource.Api, h.Get("api")!.Definition.Source);
        Assert.Equal(ScheduleSource.Configuration, h.Get("kept")!.Definition.Source);
    }

    [Fact]
    public async Task APutCreatesThenReplacesAndDescribesTheNextRun()
    {
        using var h = new ScheduleHarness();
        var manager = Manager(h);

        var (created, info, errors) = await manager.PutAsync(ScheduleHarness.Definition("s", "0 * * * *"), None);
        var (replaced, _, _) = await manager.PutAsync(ScheduleHarness.Definition("s", "0 * * * *") with { Priority = 7 }, None);

        Assert.Equal(ScheduleChange.Created, created);
        Assert.Empty(errors);
        Assert.Equal(ScheduleHarness.T0.AddHours(1), info!.NextRunAt);
        Assert.Equal(ScheduleChange.Replaced, replaced);
        Assert.Equal(7, h.Get("s")!.Definition.Priority);
    }

    [Fact]
    public async Task ADisabledScheduleShowsNoNextRun()
    {
        using var h = new ScheduleHarness();
        var manager = Manager(h);

        var (_, info, _) = await manager.PutAsync(ScheduleHarness.Definition("s") with { Enabled = false }, None);

        Assert.Null(info!.NextRunAt);
        Assert.Null((await manager.GetAsync("s", None))!.NextRunAt);
    }

    [Fact]
    public async Task AnInvalidPutIsRefusedWithItsErrorsAndNotStored()
    {
        using var h = new ScheduleHarness();
        var manager = Manager(h);

        var (change, info, errors) = await manager.PutAsync(ScheduleHarness.Definition("s", queue: "nope"), None);

        Assert.Equal(ScheduleChange.Invalid, change);
        Assert.Null(info);
        Assert.Equal("queue", Assert.Single(errors).Field);
        Assert.Null(h.Get("s"));
    }

    [Fact]
    public async Task AConfiguredScheduleCannotBeReplacedOrDeletedOverTheApi()
    {
        using var h = new ScheduleHarness();
        var manager = Manager(h, ("conf", Configured()));
        await manager.SyncConfigurationAsync(None);

        var (change, info, errors) = await manager.PutAsync(ScheduleHarness.Definition("conf", "* * * * *"), None);
        var deleted = await manager.DeleteAsync("conf", None);

        Assert.Equal((ScheduleChange.ReadOnly, ScheduleChange.ReadOnly), (change, deleted));
        Assert.Null(info);
        Assert.Empty(errors);
        Assert.Equal("0 0 1 1 *", h.Get("conf")!.Definition.Cron);
    }

    [Fact]
    public async Task ADeleteSaysWhetherThereWasOne()
    {
        using var h = new ScheduleHarness();
        var manager = Manager(h);
        await manager.PutAsync(ScheduleHarness.Definition("s"), None);

        Assert.Equal(ScheduleChange.Deleted, await manager.DeleteAsync("s", None));
        Assert.Equal(ScheduleChange.NotFound, await manager.DeleteAsync("s", None));
        Assert.Null(h.Get("s"));
    }

    [Fact]
    public async Task TriggeringAnUnknownScheduleIsNotFoundAndAKnownOneEnqueues()
    {
        using var h = new ScheduleHarness();
        var manager = Manager(h);
        await manager.PutAsync(ScheduleHarness.Definition("s", "0 0 1 1 *"), None);

        Assert.Equal((ScheduleChange.NotFound, null), await manager.TriggerAsync("nope", None));
        var (change, run) = await manager.TriggerAsync("s", None);

        Assert.Equal(ScheduleChange.Triggered, change);
        Assert.True(h.Queue.TryGetMessage(run!.MessageId!, out _));
    }

    [Fact]
    public async Task APutWithoutADefinitionIsAnArgumentError()
    {
        using var h = new ScheduleHarness();
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await Manager(h).PutAsync(null!, None));
    }

    [Fact]
    public async Task EveryChangeWakesTheSleepingSchedulerThread()
    {
        using var h = new ScheduleHarness();
        var manager = Manager(h, ("conf", Configured()));
        h.Scheduler.Start();
        TestEngine.WaitFor(() => h.Scheduler.Passes >= 1, "the first pass");

        // Nothing is due and the fake clock stands still: only a wake makes the thread pass again.
        await AssertWakes(h, async () => await manager.SyncConfigurationAsync(None), "sync");
        await AssertWakes(h, async () => await manager.PutAsync(ScheduleHarness.Definition("s", "0 0 1 1 *"), None), "put");
        await AssertWakes(h, async () => await manager.DeleteAsync("s", None), "delete");
    }

    [Fact]
    public async Task TheHostedServiceSyncsAndRunsTheThreadThenStopsIt()
    {
        using var h = new ScheduleHarness();
        var service = new SchedulerHostedService(Manager(h, ("conf", Configured())));

        await service.StartAsync(None);
        Assert.NotNull(h.Get("conf"));
        TestEngine.WaitFor(() => h.Scheduler.Passes >= 1, "the scheduler thread's first pass");

        await service.StoppingAsync(None);
        Assert.False(h.Scheduler.Thread.IsAlive);
    }

    private static async Task AssertWakes(ScheduleHarness h, Func<Task> change, string what)
    {
        // Wait for the thread to be asleep after its last pass, so the pass counted next is the wake's.
        TestEngine.WaitFor(() => (h.Scheduler.Thread.ThreadState & ThreadState.WaitSleepJoin) != 0, $"the thread asleep before the {what}");
        var passes = h.Scheduler.Passes;
        await change();
        TestEngine.WaitFor(() => h.Scheduler.Passes > passes, $"a pass after the {what}");
    }
}
