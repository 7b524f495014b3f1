using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Handlers;

/// <summary>Processes one message. Register implementations by name with <c>AddQueueHandler&lt;T&gt;("name")</c>.</summary>
/// <remarks>
/// Runs on a dedicated worker thread. Honour the cancellation token: it fires at the attempt's time
/// limit and at shutdown, and callbacks registered on it then run on the thread pool. A handler that ignores it
/// past the queue's grace period marks its worker as stuck. The token serves one attempt: registrations left on
/// it are removed when the attempt ends.
/// Throw to fail the attempt (it is retried); throw <see cref="PermanentMessageException"/> to fail it for good.
/// An async handler's continuations run on the thread pool while its worker thread waits for it, so a starved pool
/// slows such handlers down; work done synchronously stays on the worker thread.
/// </remarks>
public interface IMessageHandler
{
    ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken);
}

/// <summary>What a handler sees of the message it processes.</summary>
public readonly struct MessageContext
{
    private readonly QueueMessage? _message;
    private readonly string? _id;

    public MessageContext(string id, string queue, ReadOnlyMemory<byte> payload, int attempt, string workerId)
    {
        _id = id;
        Queue = queue;
        Payload = payload;
        Attempt = attempt;
        WorkerId = workerId;
    }

    internal MessageContext(QueueMessage message, string queue, string workerId)
    {
        _message = message;
        Queue = queue;
        Payload = message.Payload;
        Attempt = message.Attempts;
        WorkerId = workerId;
    }

    /// <summary>The message's id; its text is made when read, so a handler that never reads it does not pay for it.</summary>
    public string Id => _id ?? _message?.Id ?? "";

    public string Queue { get; }

    public ReadOnlyMemory<byte> Payload { get; }

    public int Attempt { get; }

    public string WorkerId { get; }
}

/// <summary>Thrown by a handler for a message that no retry can fix: it ends <c>failed</c> at once.</summary>
public sealed class PermanentMessageException : Exception
{
    public PermanentMessageException() { }

    public PermanentMessageException(string message) : base(message) { }

    public PermanentMessageException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The names of the registered handlers, so configuration can be checked at start-up.</summary>
public sealed class HandlerCatalog
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string name) => _names.Contains(name);

    internal void Add(string name) => _names.Add(name);
}
