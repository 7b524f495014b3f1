using QueueApi.Engine.Storage;
using QueueApi.Engine.Tests.Storage;
using QueueApi.Storage.Sqlite.Queues;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>
/// The SQLite store with packed intake (PackIntake) against the same contract: plain messages sit in packed rows until
/// first touched, and a restart reads them in place, so every claim, cancel, restart and count goes through the index
/// and the in-place read as well as through message rows.
/// </summary>
public sealed class PackedSqliteQueueStoreContractTests : DurableQueueStoreContractTests, IDisposable
{
    private readonly TempDatabase _temp = new();

    public PackedSqliteQueueStoreContractTests() => _temp.Options.PackIntake = true;

    protected override IMessageStorage CreateStorage(TimeProvider time) => new SqliteStorage(_temp.Options, _temp.Folder, time);

    // Re-implemented so the temporary folder goes after the storage closed its file.
    void IDisposable.Dispose()
    {
        Dispose();
        _temp.Dispose();
    }
}
