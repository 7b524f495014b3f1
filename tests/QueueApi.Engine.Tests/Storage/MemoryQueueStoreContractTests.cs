using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>The in-memory store against the contract every store keeps.</summary>
public sealed class MemoryQueueStoreContractTests : QueueStoreContractTests
{
    protected override IMessageStorage CreateStorage(TimeProvider time) => new MemoryStorage(time);

    [Fact]
    public void TheMemoryStorageIsNotDurable()
    {
        Assert.False(Storage.IsDurable);
        Assert.Equal("Memory", Storage.Provider);
    }
}
