namespace QueueApi.Engine.Handlers;

/// <summary>
/// Thrown by a handler whose downstream asked to be tried again later (an HTTP 429 or 503 with <c>Retry-After</c>):
/// the attempt fails as any other, and the next one waits <see cref="RetryAfter"/> instead of the queue's backoff.
/// </summary>
public sealed class RetryLaterException : Exception
{
    public RetryLaterException() { }

    public RetryLaterException(string message) : base(message) { }

    public RetryLaterException(string message, Exception inner) : base(message, inner) { }

    public RetryLaterException(string message, TimeSpan? retryAfter) : base(message) => RetryAfter = retryAfter;

    /// <summary>How long the downstream asked to wait; null: the queue's own backoff.</summary>
    public TimeSpan? RetryAfter { get; }
}
