using QueueApi.Storage.Sqlite.Recovery;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>How a start reads packed rows in place, and how the writer finds the rows that may hold a message.</summary>
public sealed class PackedReadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>The read streams: it holds about one row's messages at a time, not the whole backlog.</summary>
    [Fact]
    public async Task APackedBacklogIsReadInOrderHoldingAboutOneRowAtATime()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        var messages = Enumerable.Range(0, 400).Select(_ => TempDatabase.Message()).ToArray();
        using var database = temp.Open();
        using (var writer = new GroupCommitWriter(database))
        {
            foreach (var chunk in messages.Chunk(10))
            {
                await writer.Write(chunk.Select(WriteOp.Insert).ToArray()).WaitAsync(Bound, TestContext.Current.CancellationToken);
            }
        }

        using var connection = database.OpenConnection();
        using var packed = new PackedMessages(connection.Handle!, "q");
        var read = new List<long>();
        var most = 0;
        while (packed.TryPeek(out _))
        {
            most = Math.Max(most, packed.Buffered);
            read.Add(packed.Pop().IdMs);
        }

        Assert.Equal(messages.Select(m => m.IdMs), read);
        Assert.InRange(most, 10, 20);
    }

    /// <summary>
    /// Against a plain scan of every row: rows added mostly in order and some out of it, overlapping, expanded in
    /// bulk at the front and here and there, compacted after each round, as the writer uses them.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ALaneFindsExactlyTheUnexpandedRowsWhoseRangeHoldsAKey(int seed)
    {
        var random = new Random(seed);
        var lane = new IntakeLane();
        var all = new List<PackedRow>();
        long next = 1_000;
        for (var round = 0; round < 6; round++)
        {
            for (var i = 0; i < 500; i++)
            {
                // Mostly increasing ranges; one in ten starts before the last one (a request that overtook another).
                var min = random.Next(10) == 0 ? next - random.Next(1, 60) : next;
                var max = min + random.Next(0, 40);
                next = Math.Max(next, min) + random.Next(1, 20);
                var row = new PackedRow(all.Count, "q", new IntakeKey(min, 0), new IntakeKey(max, (uint)random.Next(3)), 1);
                lane.Add(row);
                all.Add(row);
            }

            // Claims take the oldest first: the front is expanded in bulk, and a few rows elsewhere (cancels).
            foreach (var row in all.OrderBy(r => r.Min).Take(all.Count / 3))
            {
                row.Expanded = true;
            }

            foreach (var row in all.Where(_ => random.Next(25) == 0))
            {
                row.Expanded = true;
            }

            lane.Compact();
            for (var probe = 0; probe < 300; probe++)
            {
                var key = new IntakeKey(random.NextInt64(900, next + 50), (uint)random.Next(3));
                var expected = all.Where(r => !r.Expanded && r.Min.CompareTo(key) <= 0 && r.Max.CompareTo(key) >= 0).Select(r => r.Id).Order();
                Assert.Equal(expected, lane.Covering(key).Select(r => r.Id).Order());
            }
        }

        Assert.Equal(all.Where(r => !r.Expanded).Select(r => r.Id).Order(), lane.Open().Select(r => r.Id).Order());
    }
}
