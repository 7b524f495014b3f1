using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Storage;

/// <summary>
/// Where the engine keeps its messages: one per process, registered in DI, chosen by configuration
/// (memory today; SQLite and PostgreSQL next). It opens one <see cref="IQueueStore"/> per configured queue.
/// </summary>
/// <remarks>
/// Everything that must outlive a process lives behind this seam; the engine keeps only what dies with it
/// (threads, tokens, the circuit breaker, the attempt deadlines). Process-wide duties of a shared store
/// (heartbeats, leases, rescuing a dead replica's claims, pruning) belong to its implementation, not the engine.
/// </remarks>
public interface IMessageStorage : IDisposable
{
    /// <summary>The provider's name as configured and shown by health and the shutdown report: "Memory", "Sqlite".</summary>
    string Provider { get; }

    /// <summary>
    /// True when an accepted message survives the process: a stop keeps what is left stored instead of dropping it,
    /// and a start finds it again.
    /// </summary>
    bool IsDurable { get; }

    /// <summary>
    /// Opens (or, for a durable store, recovers) the store of one queue. Called once per queue at start-up, before
    /// any worker runs; a durable store releases here the claims a dead process left behind.
    /// </summary>
    /// <exception cref="StorageUnavailableException">The store cannot be read or written.</exception>
    IQueueStore Open(string queueName, QueueOptions options);

    /// <summary>
    /// Which of the later features this provider implements; the API refuses the others with 501 rather than
    /// half-keep them (a durable store that lost a due time across a restart would run a message early).
    /// </summary>
    StoreFeatures Features => StoreFeatures.None;

    /// <summary>
    /// The store's own background threads (a group-commit writer, a heartbeat): the supervisor watches them as it
    /// watches the workers, so one that ends while the engine runs fails liveness and stops the process.
    /// </summary>
    IReadOnlyList<Thread> Threads => [];

    /// <summary>For readiness: whether the storage answers now. Bounded by the token.</summary>
    ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken);
}
