using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Resilience;

/// <summary>What the retry pipeline needs of the worker running it: the message it holds, and a word before each backoff.</summary>
internal interface IRetryObserver
{
    QueueMessage? CurrentMessage { get; }

    void OnRetrying(TimeSpan delay, Exception? error);
}
