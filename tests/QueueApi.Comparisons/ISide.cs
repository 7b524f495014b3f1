namespace QueueApi.Comparisons;

/// <summary>One system under comparison; every measurement starts on a fresh, empty store.</summary>
internal interface ISide
{
    string Name { get; }

    /// <summary>n single enqueues from <see cref="Producers.Count"/> callers, no workers running: messages per second.</summary>
    double Enqueue(int n);

    /// <summary>n enqueues of 100 per call, no workers running: messages per second, or null when the system has no batch call.</summary>
    double? EnqueueBatches(int n);

    /// <summary>
    /// Workers started first, then n single enqueues from the same callers, until every outcome is committed in the
    /// store: messages per second from the first enqueue to the last commit.
    /// </summary>
    double EndToEnd(int n);
}
