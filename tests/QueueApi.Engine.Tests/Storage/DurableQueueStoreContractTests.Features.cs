using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Storage;

/// <summary>Issue 15's features as a durable store must keep them across a restart.</summary>
public abstract partial class DurableQueueStoreContractTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void TheTraceParentOfAMessageSurvivesARestart()
    {
        var store = Open();
        var traced = NewMessage();
        traced.TraceParent = TraceParent;
        Enqueue(store, traced);
        var untraced = Accept(store).Id;

        Reopen();
        store = Open();

        Assert.Equal(TraceParent, Find(store, traced.Id)!.TraceParent);
        Assert.Null(Find(store, untraced)!.TraceParent);
    }
}
