using Polly;
using Polly.Retry;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Resilience;

/// <summary>
/// A queue's retries: Polly's retry strategy (exponential backoff with jitter, delays on the engine's
/// <see cref="TimeProvider"/>), entered only once a message's first attempt has failed, so a message that succeeds
/// at once never pays for a pipeline run. Each attempt inside it passes the queue's <see cref="CircuitBreaker"/>
/// and the supervisor's time limit.
/// </summary>
internal static class RetryPipeline
{
    /// <summary>The worker running the pipeline, handed to the callbacks through the context.</summary>
    // Stryker disable once String : the key's name is only an identity inside one context; this is the only key set or read, so any name behaves the same
    public static readonly ResiliencePropertyKey<IRetryObserver> ObserverKey = new("queueapi.worker");

    /// <summary>The error of a message a stop cancelled before it finished.</summary>
    public const string CancelledByShutdown = "cancelled by shutdown";

    /// <summary>The longest <c>Retry-After</c> honoured; a worker waits it out on its own thread.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    public static ResiliencePipeline Build(QueueOptions o, TimeProvider time, CancellationToken shutdown) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Attempts are counted on the message, so the breaker's rejections do not burn them.
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.BaseDelay,
                MaxDelay = o.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(ObserverKey, out var worker)
                    && ShouldRetry(args.Outcome.Exception, worker.CurrentMessage, o.MaxAttempts, shutdown)),
                DelayGenerator = args => ValueTask.FromResult(DelayFor(args.Outcome.Exception, o)),
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(ObserverKey, out var worker))
                    {
                        worker.OnRetrying(args.RetryDelay, args.Outcome.Exception);
                    }

                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    /// <summary>
    /// The delay a failure asks for, or null for the queue's backoff: an open circuit's remaining break, or a
    /// downstream's <c>Retry-After</c> (bounded by <see cref="MaxRetryAfter"/>, so a wild answer cannot park a worker).
    /// </summary>
    public static TimeSpan? DelayFor(Exception? ex, QueueOptions o) => ex switch
    {
        CircuitOpenException open => open.RetryAfter ?? o.CircuitBreaker.BreakDuration,
        // Stryker disable once Equality : at the boundaries both branches give the same value (TimeSpan.Zero at zero, MaxRetryAfter at MaxRetryAfter)
        RetryLaterException { RetryAfter: { } after } => after < TimeSpan.Zero ? TimeSpan.Zero : after > MaxRetryAfter ? MaxRetryAfter : after,
        _ => null,
    };

    /// <summary>Whether a failed attempt is tried again: not at shutdown, not a permanent failure, not past MaxAttempts.</summary>
    public static bool ShouldRetry(Exception? ex, QueueMessage? message, int maxAttempts, CancellationToken shutdown)
    {
        if (ex is null || shutdown.IsCancellationRequested || ex is PermanentMessageException)
        {
            return false;
        }

        // The circuit's rejections did not run the handler, so they never use up an attempt.
        return ex is CircuitOpenException || (message is not null && message.Attempts < maxAttempts);
    }

    /// <summary>The final status and error of a message whose failure is not retried.</summary>
    public static (MessageStatus Outcome, string? Error) Classify(Exception ex, CancellationToken shutdown) => ex switch
    {
        PermanentMessageException => (MessageStatus.Failed, ex.Message),
        // Stopped, not exhausted: a failure, not a dead letter.
        OperationCanceledException or CircuitOpenException when shutdown.IsCancellationRequested => (MessageStatus.Failed, CancelledByShutdown),
        _ => (MessageStatus.DeadLettered, $"{ex.GetType().Name}: {ex.Message}"),
    };

    /// <summary>Whether the circuit breaker counts a failed attempt (as Polly's ShouldHandle did).</summary>
    public static bool CountsAsFailure(Exception ex, CancellationToken shutdown) =>
        ex is not (PermanentMessageException or CircuitOpenException)
        && !(ex is OperationCanceledException && shutdown.IsCancellationRequested);
}
