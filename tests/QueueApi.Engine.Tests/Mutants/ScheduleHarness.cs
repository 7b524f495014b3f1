using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// A scheduler over a <see cref="ScriptedScheduleStore"/> and an engine whose queue store can be made to fail,
/// close or forget idempotency keys (<see cref="ScheduleQueueStorage"/>), with a logger the tests read. Queue "q" is
/// paused, so what the schedules enqueue stays in it to be looked at.
/// </summary>
internal sealed class ScheduleHarness : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public ScheduleHarness(StoreFeatures features = StoreFeatures.All, TimeSpan? grace = null, int capacity = 1000)
    {
        Time = new FakeTimeProvider(T0);
        Storage = new ScheduleQueueStorage(Time, features);
        var q = new QueueOptions { Workers = 1, Capacity = capacity, Handler = "test", AttemptTimeout = TimeSpan.FromSeconds(5), StuckGrace = TimeSpan.FromSeconds(1) };
        var options = new QueueApiOptions { Queues = { ["q"] = q } };
        options.Shutdown.DrainTimeout = TimeSpan.FromSeconds(5);
        options.Shutdown.CancelGrace = TimeSpan.FromSeconds(1);
        options.Shutdown.JoinTimeout = TimeSpan.FromSeconds(1);
        Engine = new QueueEngine(Options.Create(options), _ => DelegateHandler.Ok(), Time, NullLogger<QueueEngine>.Instance, null, Storage);
        Engine.Start();
        Queue.Pause();
        Scheduler = new Scheduler(Store, Engine, Time, new SchedulerOptions { MisfireGrace = grace ?? TimeSpan.FromMinutes(1) }, Log);
    }

    public FakeTimeProvider Time { get; }

    public ScriptedScheduleStore Store { get; } = new();

    public ScheduleQueueStorage Storage { get; }

    public QueueEngine Engine { get; }

    public Scheduler Scheduler { get; }

    public ScheduleLog Log { get; } = new();

    public Queues.WorkQueue Queue => Engine.Queues.Single();

    public long Accepted => Queue.Counts().Accepted;

    public static byte[] Payload => "{\"from\":\"schedule\"}"u8.ToArray();

    public static ScheduleDefinition Definition(string name, string cron = "* * * * * *", string queue = "q", MisfirePolicy misfire = MisfirePolicy.RunOnce) =>
        new(name, queue, cron, "UTC", Payload, Misfire: misfire);

    public StoredSchedule Put(ScheduleDefinition definition) => Store.Inner.PutAsync(definition, Time.GetUtcNow(), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public StoredSchedule? Get(string name) => Store.Inner.GetAsync(name, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>The key the runner gives an occurrence's message (issue 15): a message stored under it is a replay's first.</summary>
    public QueueMessage EnqueueWithKey(string schedule, DateTimeOffset occurrence)
    {
        var message = Queue.NewMessage(Payload, idempotencyKey: $"schedule:{schedule}:{occurrence.UtcTicks}");
        Assert.Equal(EnqueueStatus.Accepted, Queue.EnqueueAsync(message, CancellationToken.None).AsTask().GetAwaiter().GetResult());
        return message;
    }

    public void Dispose()
    {
        Scheduler.Stop(TimeSpan.FromSeconds(2));
        Scheduler.Dispose();
        Engine.Dispose();
    }
}

/// <summary>A memory schedule store that keeps pending runs to hand out, notes the claims and records, and fails on request.</summary>
internal sealed class ScriptedScheduleStore : IScheduleStore
{
    private readonly List<PendingRun> _pending = [];

    public MemoryScheduleStore Inner { get; } = new();

    public List<ScheduleClaim> Claims { get; } = [];

    private int _recordCalls;

    public int RecordCalls => Volatile.Read(ref _recordCalls);

    /// <summary>
    /// Runs once, just before the next batch of claims is decided (another replica acting meanwhile). Claims made
    /// meanwhile on other threads wait until it has run: taking it and running it are one step for them.
    /// </summary>
    public Action? BeforeClaim { get; set; }

    private readonly Lock _beforeClaimGate = new();

    public Exception? ClaimFault { get; set; }

    public Exception? ListFault { get; set; }

    /// <summary>Runs after each list (the clock moving on while the pass works).</summary>
    public Action? AfterList { get; set; }

    /// <summary>Recording a batch of runs fails after an await, as a store behind a round trip does.</summary>
    public bool RecordsFailLater { get; set; }

    /// <summary>Recording a run of this schedule throws.</summary>
    public string? FailRecordOf { get; set; }

    public TimeSpan? RefreshInterval => null;

    public void AddPending(PendingRun run) => _pending.Add(run);

    public void Delete(string name) => Inner.DeleteAsync(name, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public ValueTask<IReadOnlyList<PendingRun>> AdoptPendingRunsAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<PendingRun> adopted = [.. _pending];
        _pending.Clear();
        return new(adopted);
    }

    public ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken)
    {
        if (ListFault is { } fault)
        {
            throw fault;
        }

        var listed = Inner.ListAsync(cancellationToken);
        AfterList?.Invoke();
        return listed;
    }

    public ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken) => Inner.GetAsync(name, cancellationToken);

    public ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken) =>
        Inner.PutAsync(definition, now, cancellationToken);

    public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken) => Inner.DeleteAsync(name, cancellationToken);

    public ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken) =>
        Inner.TryAdvanceAsync(name, expected, cursor, cancellationToken);

    public async ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(IReadOnlyList<ScheduleClaim> claims, CancellationToken cancellationToken)
    {
        lock (_beforeClaimGate)
        {
            // Under load a claim that only took the action could be overtaken by a chunk that claims, enqueues and
            // starts the next chunk before the action ran (CI saw a stop arrive after all five chunks had started).
            var before = BeforeClaim;
            BeforeClaim = null;
            before?.Invoke();
        }

        if (ClaimFault is { } fault)
        {
            throw fault;
        }

        lock (Claims)
        {
            Claims.AddRange(claims);
        }

        var won = new bool[claims.Count];
        for (var i = 0; i < won.Length; i++)
        {
            won[i] = await Inner.TryAdvanceAsync(claims[i].Name, claims[i].Expected, claims[i].Cursor, cancellationToken);
        }

        return won;
    }

    public ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _recordCalls);
        return name == FailRecordOf ? throw new InvalidOperationException($"recording {name} failed (test)") : Inner.RecordRunAsync(name, run, cancellationToken);
    }

    public async ValueTask RecordRunsAsync(IReadOnlyList<(string Name, ScheduleRun Run)> runs, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _recordCalls);
        if (RecordsFailLater)
        {
            await Task.Yield();
            throw new InvalidOperationException("the record failed (test)");
        }

        foreach (var (name, run) in runs)
        {
            await Inner.RecordRunAsync(name, run, cancellationToken);
        }
    }
}

/// <summary>Log entries as written, so a test can tell what was reported.</summary>
internal sealed class ScheduleLog : ILogger
{
    private readonly List<(LogLevel Level, string Message, Exception? Error)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Error)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception), exception));
        }
    }
}
