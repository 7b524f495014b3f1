using QueueApi.Engine.Storage;
using QueueApi.Engine.Tests.Scheduling;
using QueueApi.Storage.Postgres.Tests.Support;

namespace QueueApi.Storage.Postgres.Tests;

/// <summary>
/// The PostgreSQL schedule store against the contract every schedule store keeps: every <see cref="OpenStore"/> is a
/// replica of its own (a node row, a store instance) over one schema, as a restart or another replica opens it.
/// </summary>
public sealed class PostgresScheduleStoreContractTests : DurableScheduleStoreContractTests, IDisposable
{
    private readonly PostgresScheduleStoreTests.Replicas _replicas;

    public PostgresScheduleStoreContractTests(PostgresCluster cluster)
    {
        cluster.RequireServer();
        _replicas = new PostgresScheduleStoreTests.Replicas(cluster);
    }

    protected override IScheduleStore OpenStore() => _replicas.Open().Store;

    public void Dispose() => _replicas.Dispose();
}
