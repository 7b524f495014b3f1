using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Queues;

/// <summary>
/// A queue's retries: Polly's retry strategy (exponential backoff with jitter), entered only once a message's
/// first attempt has failed, so a message that succeeds at once never pays for a pipeline run. Each attempt
/// inside it passes the queue's <see cref="CircuitBreaker"/> and its worker's attempt timeout.
/// </summary>
internal static class QueuePipeline
{
    public static ResiliencePipeline Build(WorkQueue queue, TimeProvider time, CancellationToken shutdown)
    {
        var o = queue.Options;
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Attempts are counted on the message, so the breaker's rejections do not burn them.
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.BaseDelay,
                MaxDelay = o.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(Worker.WorkerKey, out var worker)
                    && ShouldRetry(args.Outcome.Exception, worker.CurrentMessage, o.MaxAttempts, shutdown)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Exception is BrokenCircuitException broken ? broken.RetryAfter ?? o.CircuitBreaker.BreakDuration : null),
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(Worker.WorkerKey, out var worker))
                    {
                        worker.OnRetrying(args.RetryDelay, args.Outcome.Exception);
                    }

                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Whether a failed attempt is tried again: not at shutdown, not a permanent failure, not past MaxAttempts.</summary>
    public static bool ShouldRetry(Exception? ex, QueueMessage? message, int maxAttempts, CancellationToken shutdown)
    {
        if (ex is null || shutdown.IsCancellationRequested || ex is PermanentMessageException)
        {
            return false;
        }

        // The circuit's rejections did not run the handler, so they never use up an attempt.
        return ex is BrokenCircuitException || (message is not null && message.Attempts < maxAttempts);
    }

    /// <summary>Whether the circuit breaker counts a failed attempt (as Polly's ShouldHandle did).</summary>
    public static bool CountsAsFailure(Exception ex, CancellationToken shutdown) =>
        ex is not (PermanentMessageException or BrokenCircuitException)
        && !(ex is OperationCanceledException && shutdown.IsCancellationRequested);
}
