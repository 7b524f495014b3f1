using System.ComponentModel.DataAnnotations;

namespace QueueApi.Engine.Configuration;

/// <summary>Root settings, bound from the <c>QueueApi</c> configuration section.</summary>
public sealed class QueueApiOptions
{
    public const string SectionName = "QueueApi";

    /// <summary>Queues keyed by name. When none are configured, one queue named <c>default</c> is created.</summary>
    public Dictionary<string, QueueOptions> Queues { get; set; } = [];

    public ShutdownOptions Shutdown { get; set; } = new();

    public ChaosOptions Chaos { get; set; } = new();

    /// <summary>Recurring schedules declared in configuration, keyed by name; read-only over the API.</summary>
    public Dictionary<string, ScheduleOptions> Schedules { get; set; } = [];

    public SchedulerOptions Scheduler { get; set; } = new();
}

/// <summary>Settings of one queue: its size, its worker pool, its handler and its failure policy.</summary>
public sealed class QueueOptions
{
    [Range(1, 256, ErrorMessage = "Workers must be between 1 and 256.")]
    public int Workers { get; set; } = 4;

    [Range(1, 10_000_000, ErrorMessage = "Capacity must be between 1 and 10000000.")]
    public int Capacity { get; set; } = 10_000;

    [Required(AllowEmptyStrings = false)]
    public string Handler { get; set; } = "log";

    /// <summary>
    /// How many finished messages keep their status for lookups, shared among the workers: each keeps the last
    /// ones it finished, its equal share (so with uneven work the oldest kept are not exactly the queue's last).
    /// </summary>
    [Range(0, 1_000_000)]
    public int RetainFinished { get; set; } = 1_000;

    /// <summary>Attempts per message, the first one included, before it is dead-lettered.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time limit of one attempt; its cancellation reaches the handler's token.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a handler may ignore its cancelled token before its worker counts as stuck.</summary>
    public TimeSpan StuckGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The starvation guard: a waiting message gains one priority level per this much waiting, up to 9
    /// (see <see cref="Messages.MessagePriority.Effective"/>). Zero turns aging off: strict priority.
    /// </summary>
    public TimeSpan PriorityAging { get; set; } = TimeSpan.FromSeconds(30);

    [Range(0, 1_000_000)]
    public int DeadLetterCapacity { get; set; } = 1_000;

    /// <summary>
    /// A durable store dead-letters a message that was in flight when the process died this many times (a poison
    /// message), instead of running it again: otherwise a message that kills its worker crash-loops the pod.
    /// </summary>
    [Range(1, 100, ErrorMessage = "MaxCrashes must be between 1 and 100.")]
    public int MaxCrashes { get; set; } = 2;

    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>How long an <c>Idempotency-Key</c> is remembered after its message was accepted: a repeat within it
    /// returns the first message instead of a second one.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>When set, caps how fast the queue's workers start messages; off by default.</summary>
    public RateLimitOptions? RateLimit { get; set; }

    /// <summary>Settings of the built-in <c>webhook</c> handler; required when <see cref="Handler"/> is <c>webhook</c>.</summary>
    public WebhookOptions? Webhook { get; set; }
}

/// <summary>When a queue's handler keeps failing, the whole queue backs off instead of burning its messages.</summary>
public sealed class CircuitBreakerOptions
{
    public bool Enabled { get; set; } = true;

    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.8;

    [Range(2, int.MaxValue)]
    public int MinimumThroughput { get; set; } = 20;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>How the pool stops: drain what was accepted, or stop at once.</summary>
public enum ShutdownMode
{
    Drain,
    Immediate,
}

/// <summary>Deadlines of a graceful stop; together they must fit in the host's shutdown timeout.</summary>
public sealed class ShutdownOptions
{
    public ShutdownMode DefaultMode { get; set; } = ShutdownMode.Drain;

    /// <summary>How long draining may take before running messages are cancelled.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long cancelled handlers get to return before their workers are abandoned.</summary>
    public TimeSpan CancelGrace { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Bound on joining all worker threads once they were told to stop.</summary>
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>When set, the final shutdown report is also written to this file as JSON.</summary>
    public string? ReportPath { get; set; }
}

/// <summary>Fault injection, for proving the supervisor works. Off unless configured.</summary>
public sealed class ChaosOptions
{
    public bool Enabled { get; set; }
}
