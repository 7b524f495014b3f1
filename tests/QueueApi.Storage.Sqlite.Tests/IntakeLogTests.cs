using Microsoft.Data.Sqlite;
using QueueApi.Storage.Sqlite.Database;
using QueueApi.Storage.Sqlite.Recovery;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>
/// With PackIntake on (opt-in), plain inserts are packed a group (or a batch) to a row of <c>intake</c>; a packed message becomes a row of
/// <c>messages</c> before anything changes it, and a start reads the packed rows left in place.
/// </summary>
public sealed class IntakeLogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ABatchIsOnePackedRowCountedOnceAndTheNextStartReadsItInPlaceInIdOrder()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        var batch = Enumerable.Range(0, 50).Select(i => TempDatabase.Message(payload: $"{{\"n\":{i}}}")).ToArray();
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            await writer.Write(batch.Reverse().Select(WriteOp.Insert).ToArray()).WaitAsync(Bound, TestContext.Current.CancellationToken);

            Assert.Equal((1L, 50L, 0L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT sum(count) FROM intake"), Scalar(database, "SELECT count(*) FROM messages")));
            Assert.Equal(50, writer.PackedPending);
        }

        using var reopened = temp.Open();
        // Nothing expanded by the open: the row is read where it is.
        Assert.Equal((1L, 0L), (Scalar(reopened, "SELECT count(*) FROM intake"), Scalar(reopened, "SELECT count(*) FROM messages")));
        using var state = new StoredState(reopened);
        var rows = new List<ActiveRow>();
        Assert.Equal(50, state.ReadActive("q", int.MaxValue, rows.Add));
        Assert.Equal(batch.Select(m => (m.IdMs, m.IdSeq, m.EnqueuedAt, StoredStatus.Queued, 0, 0, 5)), rows.Select(r => (r.IdMs, r.IdSeq, r.EnqueuedAt, r.Status, r.Attempts, r.Crashes, r.Priority)));
        Assert.Equal("{\"n\":7}", System.Text.Encoding.UTF8.GetString(rows[7].Payload));
        Assert.Equal(50, state.ReadBooks("q")[WriteOp.Accepted]);
        Assert.Equal(50, state.CountActive("q"));
        Assert.Equal(0, state.CountActive("other"));

        // The next writer knows the row from its bounds: a claim of one of its messages expands it first.
        using var writer2 = new GroupCommitWriter(reopened);
        Assert.Equal(50, writer2.PackedPending);
        await writer2.WriteAhead(WriteOp.Claim(batch[9].IdMs, batch[9].IdSeq, "q", 1, 42, "q-0")).WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal((0L, 50L, 1L), (Scalar(reopened, "SELECT count(*) FROM intake"), Scalar(reopened, "SELECT count(*) FROM messages"), Scalar(reopened, $"SELECT status FROM messages WHERE id_ms = {batch[9].IdMs}")));
        Assert.Equal(0, writer2.PackedPending);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(5)]
    [InlineData(1)]
    public async Task AStartMergesPackedMessagesAndMessageRowsInIdOrderUpToItsLimit(int limit)
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        var m = Enumerable.Range(0, 9).Select(i => TempDatabase.Message(payload: $"{{\"n\":{i}}}")).ToArray();
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            // Three packed rows that overlap (ids are handed out before the writer sees them), a message row between
            // them (it has a priority: never packed), and a packed row that became message rows when one of its
            // messages was claimed (then retrying; the other still queued).
            await writer.Write(new[] { WriteOp.Insert(m[0]), WriteOp.Insert(m[4]) }).WaitAsync(Bound, TestContext.Current.CancellationToken);
            await writer.Write(new[] { WriteOp.Insert(m[6]), WriteOp.Insert(m[2]) }).WaitAsync(Bound, TestContext.Current.CancellationToken);
            await writer.Write(new[] { WriteOp.Insert(m[1]), WriteOp.Insert(m[3]) }).WaitAsync(Bound, TestContext.Current.CancellationToken);
            var extras = new InsertExtras(null, false, null, null, null, 0, Priority: 7);
            await writer.Write(WriteOp.Insert(m[5].IdMs, m[5].IdSeq, "q", m[5].Payload, m[5].EnqueuedAt, extras)).WaitAsync(Bound, TestContext.Current.CancellationToken);
            await writer.Write(new[] { WriteOp.Insert(m[7]), WriteOp.Insert(m[8]) }).WaitAsync(Bound, TestContext.Current.CancellationToken);
            await writer.WriteAhead(WriteOp.Claim(m[8].IdMs, m[8].IdSeq, "q", 1, 5, "q-0")).WaitAsync(Bound, TestContext.Current.CancellationToken);
            await writer.Write(WriteOp.Retry(m[8].IdMs, m[8].IdSeq, "q", 99, "boom")).WaitAsync(Bound, TestContext.Current.CancellationToken);
            await writer.Write(WriteOp.Insert(TempDatabase.Message("other"))).WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        using var reopened = temp.Open();
        Assert.Equal((3L, 3L), (Scalar(reopened, "SELECT count(*) FROM intake WHERE queue = 'q'"), Scalar(reopened, "SELECT count(*) FROM messages")));
        using var state = new StoredState(reopened);
        var rows = new List<ActiveRow>();
        Assert.Equal(Math.Min(limit, 9), state.ReadActive("q", limit, rows.Add));

        var expected = Enumerable.Range(0, 9).Take(limit).ToArray();
        Assert.Equal(expected.Select(i => $"{{\"n\":{i}}}"), rows.Select(r => System.Text.Encoding.UTF8.GetString(r.Payload)));
        Assert.Equal(expected.Select(i => (m[i].IdMs, i == 8 ? StoredStatus.Retrying : StoredStatus.Queued, i == 5 ? 7 : 5)), rows.Select(r => (r.IdMs, r.Status, r.Priority)));
        Assert.Equal(9, state.CountActive("q"));
    }

    [Fact]
    public async Task RowsPackedWithoutIdBoundsAsByAVersion4FileAreExpandedWhenTheFileIsOpened()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        var batch = Enumerable.Range(0, 5).Select(_ => TempDatabase.Message()).ToArray();
        using (var database = temp.Open())
        {
            using (var writer = new GroupCommitWriter(database))
            {
                await writer.Write(batch.Select(WriteOp.Insert).ToArray()).WaitAsync(Bound, TestContext.Current.CancellationToken);
                await writer.Write(new[] { WriteOp.Insert(TempDatabase.Message()) }).WaitAsync(Bound, TestContext.Current.CancellationToken);
            }

            // Version 4 stored no bounds; the migration to 5 leaves them empty.
            Scalar(database, $"UPDATE intake SET first_ms = NULL, first_seq = NULL, last_ms = NULL, last_seq = NULL WHERE first_ms = {batch.Min(m => m.IdMs)}");
        }

        using var reopened = temp.Open();
        Assert.Equal((1L, 5L), (Scalar(reopened, "SELECT count(*) FROM intake"), Scalar(reopened, "SELECT count(*) FROM messages")));
        using var writer2 = new GroupCommitWriter(reopened);
        Assert.Equal(1, writer2.PackedPending);
        Assert.Equal(6, TempDatabase.CountStored(reopened, "q"));
    }

    [Fact]
    public async Task AClaimExpandsThePackedRowThatHoldsItsMessageInTheClaimsOwnCommit()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        var batch = Enumerable.Range(0, 20).Select(_ => TempDatabase.Message()).ToArray();
        var later = TempDatabase.Message();
        await writer.Write(batch.Select(WriteOp.Insert).ToArray()).WaitAsync(Bound, TestContext.Current.CancellationToken);
        await writer.Write(WriteOp.Insert(later)).WaitAsync(Bound, TestContext.Current.CancellationToken);

        var claimed = batch[3];
        await writer.WriteAhead(WriteOp.Claim(claimed.IdMs, claimed.IdSeq, "q", 1, 42, "q-0")).WaitAsync(Bound, TestContext.Current.CancellationToken);

        // The batch's row is expanded (all 20), the later single's row is not touched.
        Assert.Equal((1L, 20L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT count(*) FROM messages")));
        Assert.Equal(1, writer.PackedPending);
        Assert.Equal((1L, 42L, 1L), (
            Scalar(database, $"SELECT status FROM messages WHERE id_ms = {claimed.IdMs}"),
            Scalar(database, $"SELECT started_at FROM messages WHERE id_ms = {claimed.IdMs}"),
            Scalar(database, $"SELECT attempts FROM messages WHERE id_ms = {claimed.IdMs}")));
        Assert.Equal(21, TempDatabase.CountStored(database, "q"));
    }

    [Fact]
    public async Task OverlappingPackedRowsAreEachExpandedBeforeAChangeToAMessageTheyMayHold()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        // Ids given out before the writer sees them: the first batch spans the second's only message.
        var m = Enumerable.Range(0, 3).Select(_ => TempDatabase.Message()).ToArray();
        await writer.Write(new[] { WriteOp.Insert(m[0]), WriteOp.Insert(m[2]) }).WaitAsync(Bound, TestContext.Current.CancellationToken);
        await writer.Write(new[] { WriteOp.Insert(m[1]) }).WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal((2L, 0L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT count(*) FROM messages")));

        await writer.Write(WriteOp.Finish(m[1].IdMs, m[1].IdSeq, "q", StoredStatus.Dropped, 7, "cancelled")).WaitAsync(Bound, TestContext.Current.CancellationToken);
        await writer.WriteAhead(WriteOp.Claim(m[2].IdMs, m[2].IdSeq, "q", 1, 8, "q-0")).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(0L, Scalar(database, "SELECT count(*) FROM intake"));
        Assert.Equal(
            [(m[0].IdMs, 0L), (m[1].IdMs, (long)StoredStatus.Dropped), (m[2].IdMs, 1L)],
            Rows(database, "SELECT id_ms, status FROM messages ORDER BY id_ms").Select(r => ((long)r.Item1, r.Item2)));
        Assert.Equal(0, writer.PackedPending);
    }

    [Fact]
    public async Task AChangeInTheSameGroupAsItsInsertFindsTheRowPackedThere()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        var m = Enumerable.Range(0, 2).Select(_ => TempDatabase.Message()).ToArray();

        // Two units in one group: the batch's insert, then a claim and a finish of one of its messages.
        await InOneGroup(
            writer,
            [WriteOp.Insert(m[0]), WriteOp.Insert(m[1])],
            [WriteOp.Claim(m[0].IdMs, m[0].IdSeq, "q", 1, 5, "q-0"), WriteOp.Finish(m[0].IdMs, m[0].IdSeq, "q", StoredStatus.Succeeded, 6, null)]);

        Assert.Equal(1, writer.Transactions);
        Assert.Equal(0L, Scalar(database, "SELECT count(*) FROM intake"));
        Assert.Equal(
            [(m[0].IdMs, (long)StoredStatus.Succeeded), (m[1].IdMs, 0L)],
            Rows(database, "SELECT id_ms, status FROM messages ORDER BY id_ms").Select(r => ((long)r.Item1, r.Item2)));
        Assert.Equal(0, writer.PackedPending);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task AChangeInTheSameGroupExpandsOnlyTheRowPackedThereThatHoldsItsMessage(int changed)
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        var m = Enumerable.Range(0, 6).Select(_ => TempDatabase.Message()).ToArray();

        // One group: two batches packed a row each, then a claim of the first batch's first, middle or last message.
        await InOneGroup(writer, [.. m[..3].Select(WriteOp.Insert)], [.. m[3..].Select(WriteOp.Insert)], [WriteOp.Claim(m[changed].IdMs, m[changed].IdSeq, "q", 1, 5, "q-0")]);

        Assert.Equal(1, writer.Transactions);
        // The second batch's row does not hold the message: it stays packed.
        Assert.Equal((1L, 3L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT sum(count) FROM intake")));
        Assert.Equal(
            m[..3].Select((x, i) => (x.IdMs, i == changed ? 1L : 0L)),
            Rows(database, "SELECT id_ms, status FROM messages ORDER BY id_ms").Select(r => ((long)r.Item1, r.Item2)));
        Assert.Equal(3, writer.PackedPending);
    }

    [Fact]
    public async Task AListThatIsNotAnArrayIsPackedToo()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);

        await writer.Write(new List<WriteOp> { WriteOp.Insert(TempDatabase.Message()), WriteOp.Insert(TempDatabase.Message()) }).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal((1L, 0L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT count(*) FROM messages")));
    }

    [Fact]
    public void AnExpansionRolledBackLeavesTheRowPackedAndTheNextChangeExpandsItAgain()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        using var database = temp.Open();
        using var handle = database.OpenWriterHandle();
        using var rows = new RowWriter(handle, pack: true);
        var m = Enumerable.Range(0, 4).Select(_ => TempDatabase.Message()).ToArray();
        rows.Begin();
        rows.InsertPlain(m.Select(WriteOp.Insert).ToArray());
        rows.Commit();
        rows.Committed();

        rows.Begin();
        rows.Apply(WriteOp.Claim(m[1].IdMs, m[1].IdSeq, "q", 1, 5, "q-0")); // expands, then the group fails
        rows.Rollback();
        rows.RolledBack();
        Assert.Equal((1L, 0L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT count(*) FROM messages")));

        rows.Begin();
        rows.Apply(WriteOp.Claim(m[1].IdMs, m[1].IdSeq, "q", 1, 5, "q-0"));
        rows.Commit();
        rows.Committed();
        Assert.Equal((0L, 4L, 1L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT count(*) FROM messages"), Scalar(database, "SELECT count(*) FROM messages WHERE status = 1")));
        Assert.Equal(0, rows.PackedPending);
    }

    [Fact]
    public async Task AGroupOfSingleEnqueuesIsOnePackedRowPerQueue()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = true;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        using var hold = new ManualResetEventSlim(false);
        writer.HoldGroups = hold;
        var writes = Enumerable.Range(0, 30).Select(i => writer.Write(WriteOp.Insert(TempDatabase.Message(i % 3 == 0 ? "other" : "q")))).ToArray();
        hold.Set();
        await Task.WhenAll(writes).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(1, writer.Transactions);
        Assert.Equal([("other", 10L), ("q", 20L)], Rows(database, "SELECT queue, count FROM intake ORDER BY queue").Select(r => ((string)r.Item1, r.Item2)));
    }

    [Fact]
    public async Task WithPackingOffEveryMessageIsARowOfItsOwn()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = false;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        await writer.Write(Enumerable.Range(0, 5).Select(_ => WriteOp.Insert(TempDatabase.Message())).ToArray()).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal((0L, 5L), (Scalar(database, "SELECT count(*) FROM intake"), Scalar(database, "SELECT count(*) FROM messages")));
    }

    /// <summary>Writes the units in one group: the writer holds its next group until all of them are queued.</summary>
    private static async Task InOneGroup(GroupCommitWriter writer, params WriteOp[][] units)
    {
        using var hold = new ManualResetEventSlim(false);
        writer.HoldGroups = hold;
        try
        {
            var written = units.Select(writer.Write).ToArray();
            hold.Set();
            await Task.WhenAll(written).WaitAsync(Bound, TestContext.Current.CancellationToken);
        }
        finally
        {
            // Before the event is disposed: a writer still running must not wait on it.
            hold.Set();
            writer.HoldGroups = null;
        }
    }

    // Read on a connection of its own: what was committed.
    private static long Scalar(SqliteDatabase database, string sql)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<(object, long)> Rows(SqliteDatabase database, string sql)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<(object, long)>();
        while (reader.Read())
        {
            rows.Add((reader.GetValue(0), reader.GetInt64(1)));
        }

        return rows;
    }
}
