using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage.Memory;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests;

public sealed class MessageIndexTests
{
    private static QueueMessage Message(long ms, uint seq) => new(new MessageKey(ms, seq), "q", [], DateTimeOffset.UnixEpoch);

    [Fact]
    public void AgreesWithADictionaryThroughRandomAddsRemovesAndGrowth()
    {
        // Clustered sequences (as real ids are) and colliding homes (same seq, another millisecond) both occur.
        var random = new Random(12345);
        var index = new MessageIndex();
        var model = new Dictionary<string, QueueMessage>(StringComparer.Ordinal);
        var steps = MutationRun.Steps(200_000);
        for (var step = 0; step < steps; step++)
        {
            var seq = (uint)random.Next(0, 5_000) * (random.Next(4) == 0 ? 64u : 1u);
            var ms = random.Next(0, 3);
            var id = new MessageKey(ms, seq).ToString();
            if (random.Next(3) > 0 && !model.ContainsKey(id))
            {
                var m = Message(ms, seq);
                index.Add(m);
                model[id] = m;
            }
            else
            {
                index.Remove(id);
                model.Remove(id);
            }

            if (step % 1_000 == 0)
            {
                Assert.Equal(model.Count, index.Count);
            }
        }

        Assert.Equal(model.Count, index.Count);
        foreach (var (id, m) in model)
        {
            Assert.True(index.TryGet(id, out var found), id);
            Assert.Same(m, found);
        }

        for (uint seq = 0; seq < 5_000 * 64; seq += 7)
        {
            var id = new MessageKey(1, seq).ToString();
            Assert.Equal(model.ContainsKey(id), index.TryGet(id, out _));
        }
    }

    [Fact]
    public void UnknownOrMalformedIdsAreNotFound()
    {
        var index = new MessageIndex();
        index.Add(Message(1, 1));

        Assert.False(index.TryGet(new MessageKey(1, 2).ToString(), out _));
        Assert.False(index.TryGet("not-an-id", out _));
        Assert.False(index.TryGet(new MessageKey(1, 1).ToString().ToUpperInvariant() + "0", out _));
        Assert.True(index.TryGet(new MessageKey(1, 1).ToString(), out _));
    }
}
