namespace QueueApi.Engine.Resilience;

/// <summary>
/// An attempt ran past its queue's AttemptTimeout and the supervisor cancelled its token. The engine's own type:
/// it keeps the name (and message) of Polly's, which clients already read in a message's <c>error</c> field.
/// </summary>
public sealed class TimeoutRejectedException : Exception
{
    public TimeoutRejectedException() { }

    public TimeoutRejectedException(string message) : base(message) { }

    public TimeoutRejectedException(string message, Exception inner) : base(message, inner) { }

    public TimeoutRejectedException(TimeSpan timeout, Exception inner)
        : base($"The operation didn't complete within the allowed timeout of '{timeout}'.", inner) => Timeout = timeout;

    public TimeSpan Timeout { get; }
}
