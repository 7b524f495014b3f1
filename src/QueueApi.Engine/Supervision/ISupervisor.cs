namespace QueueApi.Engine.Supervision;

/// <summary>What a worker tells the supervisor watching it, and the one token that stops every worker.</summary>
internal interface ISupervisor
{
    /// <summary>Cancelled when workers must stop now: at once in immediate mode, at the deadline when draining.</summary>
    CancellationToken ShutdownToken { get; }

    /// <summary>A worker's loop threw: the first such fault winds everything down.</summary>
    void OnWorkerFaulted(Workers.WorkerFault fault);

    /// <summary>A worker's thread is about to end (drained, stopped or faulted).</summary>
    void OnWorkerExited();

    /// <summary>Hot path: an attempt's deadline (a timestamp) was armed; wake the supervisor only if it is earlier than its plan.</summary>
    void OnDeadlineArmed(long deadline);
}
