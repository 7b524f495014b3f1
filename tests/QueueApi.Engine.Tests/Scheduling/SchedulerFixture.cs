using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Scheduling;

/// <summary>
/// An engine with queue "q" and a scheduler over a schedule store, all on one fake clock. Several fixtures may share
/// a store (and a clock): replicas. Handlers do nothing; tests count what was accepted.
/// </summary>
public sealed class SchedulerFixture : IDisposable
{
    public SchedulerFixture(FakeTimeProvider time, IScheduleStore? store = null, TimeSpan? grace = null, Action<QueueOptions>? queue = null)
    {
        Time = time;
        Store = store ?? new MemoryScheduleStore();
        Engine = TestEngine.Create(DelegateHandler.Ok(), queue, time: time);
        Scheduler = new Scheduler(Store, Engine, time, new SchedulerOptions { MisfireGrace = grace ?? TimeSpan.FromMinutes(1) }, NullLogger.Instance);
    }

    public FakeTimeProvider Time { get; }

    public IScheduleStore Store { get; }

    public QueueEngine Engine { get; }

    public Scheduler Scheduler { get; }

    /// <summary>Messages the schedules enqueued into this replica's queue.</summary>
    public long Accepted => Engine.Queues.Single().Counts().Accepted;

    public static ScheduleDefinition Definition(string cron, string zone = "UTC", MisfirePolicy misfire = MisfirePolicy.RunOnce, string name = "s") =>
        new(name, "q", cron, zone, "{\"from\":\"schedule\"}"u8.ToArray(), Misfire: misfire);

    public StoredSchedule Put(ScheduleDefinition definition) =>
        Store.PutAsync(definition, Time.GetUtcNow(), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public StoredSchedule Get(string name = "s") => Store.GetAsync(name, CancellationToken.None).AsTask().GetAwaiter().GetResult()!;

    /// <summary>
    /// Moves the clock to each due time up to <paramref name="until"/> and runs the scheduler there, as its thread
    /// would when its timer rings; returns the occurrence of every run recorded on the way.
    /// </summary>
    public List<DateTimeOffset> RunUntil(DateTimeOffset until, string name = "s")
    {
        var runs = new List<DateTimeOffset>();
        var next = Scheduler.RunDue();
        while (next is { } due && due <= until)
        {
            Time.AdvanceTo(due);
            next = Scheduler.RunDue();
            if (Get(name).LastRun is { Occurrence: { } o } && (runs.Count == 0 || runs[^1] != o))
            {
                runs.Add(o);
            }
        }

        return runs;
    }

    public void Dispose()
    {
        Scheduler.Stop(TimeSpan.FromSeconds(2));
        Scheduler.Dispose();
        Engine.Dispose();
    }
}

public static class FakeTimeProviderExtensions
{
    public static void AdvanceTo(this FakeTimeProvider time, DateTimeOffset at)
    {
        if (at > time.GetUtcNow())
        {
            time.Advance(at - time.GetUtcNow());
        }
    }
}
