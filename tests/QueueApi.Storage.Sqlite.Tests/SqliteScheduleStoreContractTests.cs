using QueueApi.Engine.Storage;
using QueueApi.Engine.Tests.Scheduling;
using QueueApi.Storage.Sqlite.Schedules;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>
/// The SQLite schedule store against the schedule store contract: every <see cref="OpenStore"/> is a new instance
/// over the same file, as a restarted process or another replica opens it.
/// </summary>
public sealed class SqliteScheduleStoreContractTests : DurableScheduleStoreContractTests, IDisposable
{
    private readonly TempDatabase _temp = new();

    protected override IScheduleStore OpenStore() => new SqliteScheduleStore(SqliteScheduleStore.BesideDatabase(_temp.FilePath));

    [Fact]
    public void TheScheduleFileSitsBesideTheMessageDatabase() =>
        Assert.Equal(Path.Combine(_temp.Folder, "data", "queueapi.schedules.db"), ((SqliteScheduleStore)OpenStore()).FilePath);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // Pooled connections hold the file open.
        _temp.Dispose();
    }
}
