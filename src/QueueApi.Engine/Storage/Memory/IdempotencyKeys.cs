using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>
/// The in-memory store's idempotency keys: key → the first message's id, body hash and expiry, for the queue's
/// IdempotencyWindow. Entries expire in the order they were made (one window per queue), so a FIFO prunes them as
/// keyed messages arrive. An entry keeps the message's id, not the message, so a payload is not held for a day;
/// the message notes its final status in its entry (<see cref="Entry.Final"/>) for a repeat that comes after the
/// message itself was evicted from lookups.
/// </summary>
internal sealed class IdempotencyKeys(TimeSpan window)
{
    private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
    private readonly Queue<Entry> _byAge = new();
    private readonly long _windowTicks = window.Ticks;

    /// <summary>Guards every method: the store holds it across check and insert, so one key makes one message.</summary>
    public Lock Gate { get; } = new();

    public int Count => _byKey.Count;

    /// <summary>The live entry for the message's key, after pruning what expired by <paramref name="now"/>. Under <see cref="Gate"/>.</summary>
    public Entry? Find(QueueMessage message, long now)
    {
        while (_byAge.TryPeek(out var oldest) && oldest.Expires <= now)
        {
            _byAge.Dequeue();
            if (_byKey.TryGetValue(oldest.Key, out var current) && ReferenceEquals(current, oldest))
            {
                _byKey.Remove(oldest.Key);
            }
        }

        return _byKey.GetValueOrDefault(message.IdempotencyKey!);
    }

    /// <summary>Remembers the key of a message being accepted now. Under <see cref="Gate"/>.</summary>
    public void Add(QueueMessage message, long now)
    {
        var entry = new Entry(message.IdempotencyKey!, message.Key, message.RequestHash, now + _windowTicks);
        _byKey[entry.Key] = entry;
        _byAge.Enqueue(entry);
        message.StoreTag = entry;
    }

    /// <summary>A key of an earlier run, with its stored expiry (restored oldest first). Under <see cref="Gate"/>.</summary>
    public Entry Restore(string key, MessageKey id, string? hash, long expires)
    {
        var entry = new Entry(key, id, hash, expires);
        _byKey[key] = entry;
        _byAge.Enqueue(entry);
        return entry;
    }

    /// <summary>Forgets keys of messages that were refused after all (a full queue). Under <see cref="Gate"/>.</summary>
    public void Remove(QueueMessage message)
    {
        if (message.StoreTag is Entry entry && _byKey.TryGetValue(entry.Key, out var current) && ReferenceEquals(current, entry))
        {
            _byKey.Remove(entry.Key);
        }

        message.StoreTag = null;
    }

    /// <summary>One remembered key.</summary>
    internal sealed class Entry(string key, MessageKey id, string? hash, long expires)
    {
        public string Key { get; } = key;

        /// <summary>The first message's id as numbers: formatted only for a repeat.</summary>
        public MessageKey Id { get; } = id;

        public string? Hash { get; } = hash;

        public long Expires { get; } = expires;

        /// <summary>The message's final status once it has one (set by the store as it finishes it).</summary>
        public MessageStatus? Final { get; set; }
    }
}
