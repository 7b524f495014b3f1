using Microsoft.Extensions.Logging.Abstractions;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Tests.Storage;
using QueueApi.Storage.Postgres.Tests.Support;

[assembly: AssemblyFixture(typeof(PostgresCluster))]

namespace QueueApi.Storage.Postgres.Tests;

/// <summary>The PostgreSQL store against the contract every store keeps, and what a durable one adds (a schema per test).</summary>
public sealed class PostgresQueueStoreContractTests : DurableQueueStoreContractTests
{
    private readonly PostgresCluster _cluster;
    private readonly string _schema = PostgresCluster.NewSchema();

    public PostgresQueueStoreContractTests(PostgresCluster cluster)
    {
        cluster.RequireServer();
        _cluster = cluster;
    }

    protected override IMessageStorage CreateStorage(TimeProvider time) =>
        new PostgresStorage(new PostgresStorageOptions { ConnectionString = _cluster.ConnectionString, Schema = _schema }, time, NullLogger<PostgresStorage>.Instance);

    [Fact]
    public void TheStorageSaysItIsPostgres() => Assert.Equal("Postgres", Storage.Provider);
}
