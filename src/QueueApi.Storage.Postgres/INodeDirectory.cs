namespace QueueApi.Storage.Postgres;

/// <summary>The replicas sharing this service's queues, for <c>GET /nodes</c> and <c>/health</c>.</summary>
public interface INodeDirectory
{
    Task<IReadOnlyList<NodeInfo>> NodesAsync(CancellationToken cancellationToken);
}

/// <summary>One replica: its heartbeat, whether it lives (heard from within the lease and not stopped), its workers.</summary>
public sealed record NodeInfo(
    string Id,
    string Host,
    int Pid,
    DateTimeOffset StartedAt,
    DateTimeOffset LastHeartbeat,
    DateTimeOffset? StoppedAt,
    bool Alive,
    bool Self,
    IReadOnlyList<string> Workers);
