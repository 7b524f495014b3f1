using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The two ways a storage check can come out, each keeping the line it says.</summary>
public sealed class StorageHealthTests
{
    [Fact]
    public void OkIsHealthy()
    {
        Assert.Equal(new StorageHealth(true, "answers"), StorageHealth.Ok("answers"));
    }

    [Fact]
    public void FailingIsNotHealthy()
    {
        Assert.Equal(new StorageHealth(false, "down"), StorageHealth.Failing("down"));
    }
}
