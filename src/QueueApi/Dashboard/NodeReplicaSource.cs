using QueueApi.Storage.Postgres;

namespace QueueApi.Dashboard;

/// <summary>
/// The dashboard's replicas on a shared (PostgreSQL) store: the node directory read every two seconds off the
/// request path, so a snapshot (built every second per open page) only reads the last list.
/// </summary>
internal sealed class NodeReplicaSource(INodeDirectory directory, TimeProvider time) : BackgroundService, IReplicaSource
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);
    private volatile IReadOnlyList<ReplicaView> _last = [];

    public IReadOnlyList<ReplicaView> Replicas() => _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, time);
        do
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Reads the directory once, bounded; on a database blip the last list stays (marked by its times).</summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(Bound);
        try
        {
            var nodes = await directory.NodesAsync(bound.Token).ConfigureAwait(false);
            _last = [.. nodes.Select(ToView)];
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The database is away: readiness says so; the page keeps the replicas it last saw.
        }
    }

    internal static ReplicaView ToView(NodeInfo node) => new(
        node.Id,
        node.StoppedAt is not null ? "stopped" : node.Alive ? "alive" : "dead",
        node.LastHeartbeat,
        $"{node.Host} pid {node.Pid}{(node.Self ? " (this replica)" : "")}, {node.Workers.Count} workers");
}
