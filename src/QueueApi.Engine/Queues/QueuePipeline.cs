using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Queues;

/// <summary>Builds a queue's resilience pipeline: retry (outermost), circuit breaker, then a per-attempt timeout.</summary>
internal static class QueuePipeline
{
    public static ResiliencePipeline Build(WorkQueue queue, TimeProvider time, CancellationToken shutdown)
    {
        var o = queue.Options;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        builder.AddRetry(new RetryStrategyOptions
        {
            // Attempts are counted on the message, so the breaker's rejections do not burn them.
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = o.BaseDelay,
            MaxDelay = o.MaxDelay,
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome.Exception, args.Context, o.MaxAttempts, shutdown)),
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
        });

        if (o.CircuitBreaker.Enabled)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = o.CircuitBreaker.FailureRatio,
                MinimumThroughput = o.CircuitBreaker.MinimumThroughput,
                SamplingDuration = o.CircuitBreaker.SamplingDuration,
                BreakDuration = o.CircuitBreaker.BreakDuration,
                StateProvider = queue.BreakerState,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex and not PermanentMessageException
                    && !(ex is OperationCanceledException && shutdown.IsCancellationRequested)),
                OnOpened = args =>
                {
                    queue.OnBreakerOpened(args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddTimeout(new TimeoutStrategyOptions { Timeout = o.AttemptTimeout });
        return builder.Build();
    }

    private static bool ShouldRetry(Exception? ex, ResilienceContext context, int maxAttempts, CancellationToken shutdown)
    {
        if (ex is null || shutdown.IsCancellationRequested || ex is PermanentMessageException)
        {
            return false;
        }

        if (ex is BrokenCircuitException)
        {
            return true;
        }

        return context.Properties.TryGetValue(Worker.WorkerKey, out var worker)
            && worker.CurrentMessage is { } message
            && message.Attempts < maxAttempts;
    }
}
