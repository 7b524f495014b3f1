using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Queues;

/// <summary>
/// Finds a queue's live and retained messages by id. Striped hash sets of the messages themselves, keyed by
/// the numbers of their ids: no node, key string or entry object per message (a ConcurrentDictionary keyed by
/// the id string cost about 110 bytes per message). Like ConcurrentDictionary's writes, each stripe has a lock;
/// with ids spread round-robin over 64 stripes, two threads rarely meet on one.
/// </summary>
internal sealed class MessageIndex
{
    private const int Stripes = 64;

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
        var stripe = StripeOf(message.Key);
        lock (stripe.Lock)
        {
            stripe.Set.Add(message);
        }
    }

    public void Remove(QueueMessage message)
    {
        var stripe = StripeOf(message.Key);
        lock (stripe.Lock)
        {
            stripe.Set.Remove(message);
        }
    }

    public void Remove(string id)
    {
        if (MessageKey.TryParse(id, out var key))
        {
            Remove(Probe(key));
        }
    }

    public bool TryGet(string id, out QueueMessage? message)
    {
        message = null;
        if (!MessageKey.TryParse(id, out var key))
        {
            return false;
        }

        var stripe = StripeOf(key);
        var probe = Probe(key);
        lock (stripe.Lock)
        {
            return stripe.Set.TryGetValue(probe, out message);
        }
    }

    private Stripe StripeOf(MessageKey key) => _stripes[key.Seq & (Stripes - 1)];

    // Hash sets compare by key only, so an empty message with the same id finds the real one.
    private static QueueMessage Probe(MessageKey key) => new(key, "", [], default);

    private sealed class Stripe
    {
        public readonly Lock Lock = new();
        public readonly HashSet<QueueMessage> Set = new(KeyComparer.Instance);
    }

    private sealed class KeyComparer : IEqualityComparer<QueueMessage>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(QueueMessage? x, QueueMessage? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.Key == y.Key);

        // The sequence alone spreads well: consecutive ids differ in it.
        public int GetHashCode(QueueMessage obj) => (int)obj.Key.Seq ^ (int)obj.Key.Ms;
    }
}
