using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// A message's rarely used fields live in one extras object made on the first non-null write: every field written
/// reads back, writing one keeps the others, and writing a null makes nothing.
/// </summary>
public sealed class MessageShapeTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private static QueueMessage NewMessage() => new(new MessageKey(1, 1), "q", TestEngine.Json("{}"), DateTimeOffset.UnixEpoch);

    [Fact]
    public void ADueTimeReadsBack()
    {
        var due = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var message = NewMessage();

        message.DueAt = due;

        Assert.Equal(due, message.DueAt);
    }

    [Fact]
    public void AStoreTagReadsBackOnAMessageWithoutExtras()
    {
        var tag = new object();
        var message = NewMessage();

        message.StoreTag = tag;

        Assert.Same(tag, message.StoreTag);
    }

    [Fact]
    public void AReplayMarkReadsBackOnAMessageWithoutExtras()
    {
        var message = NewMessage();

        message.MarkReplayOf("first", MessageStatus.Succeeded);

        Assert.Equal("first", message.ReplayOf);
        Assert.Equal(MessageStatus.Succeeded, message.ReplayStatus);
    }

    [Fact]
    public void WritingOneExtraKeepsTheOthers()
    {
        var due = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var tag = new object();
        var message = NewMessage();

        message.DueAt = due;
        message.TraceParent = TraceParent;
        message.SetIdempotencyKey("key", "hash");
        message.Priority = 8;
        message.StoreTag = tag;
        message.MarkReplayOf("first", MessageStatus.Failed);

        Assert.Equal(due, message.DueAt);
        Assert.Equal(TraceParent, message.TraceParent);
        Assert.Equal("key", message.IdempotencyKey);
        Assert.Equal("hash", message.RequestHash);
        Assert.Equal(8, message.Priority);
        Assert.Same(tag, message.StoreTag);
        Assert.Equal("first", message.ReplayOf);
    }

    [Fact]
    public void WritingNullsAndTheDefaultPriorityAllocatesNothing()
    {
        var message = NewMessage();
        // Once on another message first, so compiling the setters is not counted.
        var warm = NewMessage();
        warm.TraceParent = null;
        warm.DueAt = null;
        warm.StoreTag = null;
        warm.Priority = MessagePriority.Default;

        var before = GC.GetAllocatedBytesForCurrentThread();
        message.TraceParent = null;
        message.DueAt = null;
        message.StoreTag = null;
        message.Priority = MessagePriority.Default;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Null(message.DueAt);
        Assert.Equal(MessagePriority.Default, message.Priority);
    }
}
