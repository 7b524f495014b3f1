using QueueApi.Engine.Messages;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// Messages are the same when their ids are: a claim hands out an instance read from the row, and a report may
/// come with another instance of the same message (the one its sender enqueued, say).
/// </summary>
internal sealed class SameMessage : IEqualityComparer<QueueMessage>
{
    public static readonly SameMessage Instance = new();

    public bool Equals(QueueMessage? x, QueueMessage? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.Key == y.Key);

    public int GetHashCode(QueueMessage obj) => obj.Key.GetHashCode();
}
