using Polly;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Resilience;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Queues;

/// <summary>
/// What a queue's workers share: its store, its handler, its breaker, its retries and its pause gate. It knows
/// no worker and no engine, so a worker can hold it without a cycle.
/// </summary>
internal sealed class QueueRuntime
{
    private readonly TimeProvider _time;

    public QueueRuntime(string name, QueueOptions options, IQueueStore store, IMessageHandler handler, TimeProvider time, CancellationToken shutdown)
    {
        Name = name;
        Options = options;
        Store = store;
        Handler = handler;
        _time = time;
        Breaker = new CircuitBreaker(options.CircuitBreaker, options.Workers);
        Retry = RetryPipeline.Build(options, time, shutdown);
        Pause = new PauseGate(store.IsPaused);
        Starts = options.RateLimit is { } limit ? new StartLimiter(limit, options.Workers) : null;
    }

    public string Name { get; }

    public QueueOptions Options { get; }

    public IQueueStore Store { get; }

    public IMessageHandler Handler { get; }

    public CircuitBreaker Breaker { get; }

    /// <summary>Polly's retries, entered only after a first attempt failed.</summary>
    public ResiliencePipeline Retry { get; }

    public PauseGate Pause { get; }

    /// <summary>The queue's rate limit on starting messages; null when it has none (the hot path then pays nothing).</summary>
    public StartLimiter? Starts { get; }

    /// <summary>
    /// How long a paused worker waits before it looks at the stored flag again: a shared store's flag can be
    /// changed by another replica, which cannot wake this one's gate. A local resume wakes it at once.
    /// </summary>
    public static TimeSpan PauseRecheck { get; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Brings the pause gate in line with the stored flag (set here or, in a shared store, elsewhere); true while
    /// paused. Once the store stops accepting, a drain finishes paused queues too, so the flag no longer holds.
    /// </summary>
    public bool SyncPaused()
    {
        var stored = Store.IsPaused && Store.IsAccepting;
        if (stored != Pause.IsPaused)
        {
            if (stored)
            {
                Pause.Pause();
            }
            else
            {
                Pause.Resume();
            }
        }

        return stored;
    }

    /// <summary>How long the open circuit still keeps workers from taking new messages.</summary>
    // Stryker disable once Conditional : CircuitBreaker.BreakRemaining itself answers zero unless the circuit is open.
    public TimeSpan BreakRemaining() => Breaker.IsOpen ? Breaker.BreakRemaining(_time.GetUtcNow().UtcTicks) : TimeSpan.Zero;
}
