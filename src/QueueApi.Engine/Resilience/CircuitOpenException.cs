namespace QueueApi.Engine.Resilience;

/// <summary>An attempt was not made: the queue's circuit is open. Never uses up an attempt; retried after <see cref="RetryAfter"/>.</summary>
public sealed class CircuitOpenException : Exception
{
    public CircuitOpenException() { }

    public CircuitOpenException(string message) : base(message) { }

    public CircuitOpenException(string message, Exception inner) : base(message, inner) { }

    public CircuitOpenException(string message, TimeSpan retryAfter) : base(message) => RetryAfter = retryAfter;

    /// <summary>How long the circuit still rejects attempts.</summary>
    public TimeSpan? RetryAfter { get; }
}
