using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>Issue 15's features as every store must keep them.</summary>
public abstract partial class QueueStoreContractTests
{
    [Fact]
    public void AMessageKeepsTheTraceParentItWasEnqueuedWith()
    {
        var store = Open();
        var traced = NewMessage();
        traced.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Enqueue(store, traced);

        Assert.Equal(traced.TraceParent, Find(store, traced.Id)!.TraceParent);
        Assert.Equal(traced.TraceParent, Claim(store, W0).TraceParent);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", traced.TraceId);
    }
}
