using System.Diagnostics.CodeAnalysis;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>A queue's kept dead letters in memory, oldest first, at most a capacity; removals are rare (operator actions).</summary>
internal sealed class DeadLetterList(int capacity)
{
    private readonly Lock _lock = new();
    // Insertion-ordered, so the oldest dead letter is evicted first.
    private readonly OrderedDictionary<string, QueueMessage> _items = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Keeps a new dead letter; returns the id of the oldest one if it was evicted to make room.</summary>
    public string? Add(QueueMessage message)
    {
        lock (_lock)
        {
            _items[message.Id] = message;
            if (_items.Count <= capacity)
            {
                return null;
            }

            var evicted = _items.GetAt(0).Key;
            _items.RemoveAt(0);
            return evicted;
        }
    }

    /// <summary>Puts back a dead letter taken out by <see cref="TryRemove"/> (a requeue that could not go ahead).</summary>
    public void Put(QueueMessage message)
    {
        lock (_lock)
        {
            _items[message.Id] = message;
        }
    }

    public bool TryRemove(string id, [NotNullWhen(true)] out QueueMessage? message)
    {
        lock (_lock)
        {
            return _items.Remove(id, out message);
        }
    }

    public IReadOnlyList<QueueMessage> Take(int limit)
    {
        lock (_lock)
        {
            return _items.Values.Take(limit).ToList();
        }
    }
}
