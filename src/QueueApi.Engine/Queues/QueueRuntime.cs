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

    /// <summary>How long the open circuit still keeps workers from taking new messages.</summary>
    public TimeSpan BreakRemaining() => Breaker.IsOpen ? Breaker.BreakRemaining(_time.GetUtcNow().UtcTicks) : TimeSpan.Zero;
}
