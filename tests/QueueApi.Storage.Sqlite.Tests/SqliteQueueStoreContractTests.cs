using QueueApi.Engine.Storage;
using QueueApi.Engine.Tests.Storage;
using QueueApi.Storage.Sqlite.Queues;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>The SQLite store against the contract every store keeps, and what a durable one adds; a file per test.</summary>
public sealed class SqliteQueueStoreContractTests : DurableQueueStoreContractTests, IDisposable
{
    private readonly TempDatabase _temp = new();

    protected override IMessageStorage CreateStorage(TimeProvider time) => new SqliteStorage(_temp.Options, _temp.Folder, time);

    [Fact]
    public async Task TheSqliteStorageNamesItsProviderAndFileInItsHealth()
    {
        Assert.Equal("Sqlite", Storage.Provider);
        var health = await Storage.CheckHealthAsync(TestContext.Current.CancellationToken);
        Assert.True(health.Healthy);
        Assert.Contains(_temp.FilePath, health.Description, StringComparison.Ordinal);
    }

    // Re-implemented so the temporary folder goes after the storage closed its file.
    void IDisposable.Dispose()
    {
        Dispose();
        _temp.Dispose();
    }
}
