using System.Numerics;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>
/// Finds a queue's live and retained messages by id. Striped open-addressing tables of the messages themselves,
/// keyed by the numbers of their ids: no node, key string or entry object per message (a ConcurrentDictionary
/// keyed by the id string cost about 110 bytes per message), and no comparer calls. Ids are handed out in sequence,
/// so a stripe's messages have consecutive home slots: adds and removes walk memory in order and rarely probe.
/// Each stripe has a lock; with ids spread round-robin over 64 stripes, two threads rarely meet on one.
/// </summary>
internal sealed class MessageIndex
{
    private const int Stripes = 64;
    private const int StripeBits = 6;

    private readonly Stripe[] _stripes = new Stripe[Stripes];

    public MessageIndex()
    {
        for (var i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new Stripe();
        }
    }

    public void Add(QueueMessage message)
    {
        var key = message.Key;
        var stripe = _stripes[key.Seq & (Stripes - 1)];
        lock (stripe.Lock)
        {
            stripe.Add(message, key);
        }
    }

    public void Remove(QueueMessage message) => Remove(message.Key);

    public void Remove(string id)
    {
        if (MessageKey.TryParse(id, out var key))
        {
            Remove(key);
        }
    }

    public bool TryGet(string id, out QueueMessage? message)
    {
        message = null;
        if (!MessageKey.TryParse(id, out var key))
        {
            return false;
        }

        var stripe = _stripes[key.Seq & (Stripes - 1)];
        lock (stripe.Lock)
        {
            return stripe.TryGet(key, out message);
        }
    }

    /// <summary>How many messages are indexed (for tests).</summary>
    public int Count
    {
        get
        {
            var n = 0;
            foreach (var stripe in _stripes)
            {
                lock (stripe.Lock)
                {
                    n += stripe.Count;
                }
            }

            return n;
        }
    }

    private void Remove(MessageKey key)
    {
        var stripe = _stripes[key.Seq & (Stripes - 1)];
        lock (stripe.Lock)
        {
            stripe.Remove(key);
        }
    }

    /// <summary>
    /// A linear-probing table, at most half full counting removed slots. Removal leaves a marker rather than
    /// shifting the run back: ids arrive in order, so a stripe's entries form one long run, and a backward shift
    /// would walk all of it on every removal. The table is rebuilt (to four times its live count) once live and
    /// removed slots fill half of it, which clears the markers; that costs about four moves per add.
    /// </summary>
    private sealed class Stripe
    {
        private static readonly QueueMessage Removed = new(default, "", [], default);

        public readonly Lock Lock = new();
        private QueueMessage?[] _slots = new QueueMessage?[16];
        private int _removed;

        public int Count { get; private set; }

        public void Add(QueueMessage message, MessageKey key)
        {
            if ((Count + _removed + 1) * 2 > _slots.Length)
            {
                Rebuild();
            }

            var mask = _slots.Length - 1;
            var i = Home(key, mask);
            while (_slots[i] is { } taken && !ReferenceEquals(taken, Removed))
            {
                i = (i + 1) & mask;
            }

            if (_slots[i] is not null)
            {
                _removed--;
            }

            _slots[i] = message;
            Count++;
        }

        public bool TryGet(MessageKey key, out QueueMessage? message)
        {
            var i = Find(key);
            message = i >= 0 ? _slots[i] : null;
            return i >= 0;
        }

        public void Remove(MessageKey key)
        {
            var i = Find(key);
            if (i >= 0)
            {
                _slots[i] = Removed;
                _removed++;
                Count--;
            }
        }

        private int Find(MessageKey key)
        {
            var mask = _slots.Length - 1;
            var i = Home(key, mask);
            while (_slots[i] is { } m)
            {
                if (!ReferenceEquals(m, Removed) && m.Key == key)
                {
                    return i;
                }

                i = (i + 1) & mask;
            }

            return -1;
        }

        private void Rebuild()
        {
            var old = _slots;
            _slots = new QueueMessage?[Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)(Count + 1) * 4))];
            Count = 0;
            _removed = 0;
            foreach (var m in old)
            {
                if (m is not null && !ReferenceEquals(m, Removed))
                {
                    Add(m, m.Key);
                }
            }
        }

        // Within a stripe, consecutive ids differ by 64 in their sequence: dropping the stripe bits makes them neighbours.
        private static int Home(MessageKey key, int mask) => (int)(key.Seq >> StripeBits) & mask;
    }
}
