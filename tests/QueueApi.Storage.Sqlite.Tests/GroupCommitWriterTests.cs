using Microsoft.Data.Sqlite;
using QueueApi.Storage.Sqlite.Recovery;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Tests;

public sealed class GroupCommitWriterTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ConcurrentWritesShareTransactionsAndAllCommit()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        using var hold = new ManualResetEventSlim(false);
        writer.HoldGroups = hold;

        var messages = Enumerable.Range(0, 500).Select(_ => TempDatabase.Message()).ToArray();
        var writes = messages.AsParallel().Select(m => writer.Write(WriteOp.Insert(m))).ToArray();
        hold.Set();
        await Task.WhenAll(writes).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(500, writer.Units);
        Assert.True(writer.Transactions < 50, $"{writer.Transactions} transactions for 500 writes");
        using var state = new StoredState(database);
        Assert.Equal(500, TempDatabase.CountStored(database, "q"));
        Assert.Equal(500, state.ReadBooks("q")[WriteOp.Accepted]);
    }

    /// <summary>
    /// A flood of batches is cut into groups of a few thousand rows, and a worker's claim joins the next group ahead
    /// of them: under a full intake the workers still start their messages (they wait for the claim's commit).
    /// </summary>
    [Fact]
    public async Task AClaimIsWrittenAheadOfAFloodOfBatchesWhichIsCutIntoShortGroups()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        var running = TempDatabase.Message();
        await writer.Write(WriteOp.Insert(running)).WaitAsync(Bound, TestContext.Current.CancellationToken);
        using var hold = new ManualResetEventSlim(false);
        writer.HoldGroups = hold;

        var flood = Enumerable.Range(0, 20).Select(_ => writer.Submit(new WriteUnit([.. Enumerable.Range(0, 1000).Select(_ => WriteOp.Insert(TempDatabase.Message()))]))).ToList();
        var claim = writer.Submit(new WriteUnit(WriteOp.Claim(running.IdMs, running.IdSeq, "q", 1, 42, "q-1"), ahead: true));
        hold.Set();
        await Task.WhenAll(flood.Select(u => u.Completion).Append(claim.Completion)).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.True(claim.Transaction <= flood.Min(u => u.Transaction), $"claim in transaction {claim.Transaction}, flood from {flood.Min(u => u.Transaction)}");
        Assert.True(flood.Select(u => u.Transaction).Distinct().Count() >= 4, $"20,000 rows in {flood.Select(u => u.Transaction).Distinct().Count()} groups");
        using var state = new StoredState(database);
        Assert.Equal(20_001, state.ReadActive("q", int.MaxValue, _ => { }));
    }

    /// <summary>Single plain inserts are gathered per queue into multi-row statements; the rest of the group keeps its own writes.</summary>
    [Fact]
    public async Task OneGroupOfSingleInsertsIntoTwoQueuesAmongOtherChangesKeepsEveryRowAndTheBooks()
    {
        using var temp = new TempDatabase();
        temp.Options.PackIntake = false; // The multi-row inserts (the default; IntakeLogTests pack).
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        var running = TempDatabase.Message();
        await writer.Write(WriteOp.Insert(running)).WaitAsync(Bound, TestContext.Current.CancellationToken);
        using var hold = new ManualResetEventSlim(false);
        writer.HoldGroups = hold;

        var q = Enumerable.Range(0, 21).Select(_ => TempDatabase.Message()).ToArray(); // 16 + 4 + 1 rows
        var other = Enumerable.Range(0, 5).Select(_ => TempDatabase.Message("other")).ToArray();
        var urgent = TempDatabase.Message();
        var writes = new List<Task>();
        for (var i = 0; i < q.Length; i++)
        {
            writes.Add(writer.Write(WriteOp.Insert(q[i])));
            if (i < other.Length)
            {
                writes.Add(writer.Write(WriteOp.Insert(other[i])));
            }

            if (i == 10)
            {
                writes.Add(writer.Write(WriteOp.Claim(running.IdMs, running.IdSeq, "q", 1, 42, "q-1")));
                writes.Add(writer.Write(WriteOp.Insert(urgent.IdMs, urgent.IdSeq, "q", urgent.Payload, urgent.EnqueuedAt, new InsertExtras(null, false, null, null, null, 0, Priority: 9))));
            }
        }

        hold.Set();
        await Task.WhenAll(writes).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(2, writer.Transactions);
        using var state = new StoredState(database);
        var rows = new List<ActiveRow>();
        state.ReadActive("q", int.MaxValue, rows.Add);
        Assert.Equal(q.Append(running).Append(urgent).Select(m => m.IdMs).Order(), rows.Select(r => r.IdMs));
        Assert.Equal((StoredStatus.Processing, 1), rows.Where(r => r.IdMs == running.IdMs).Select(r => (r.Status, r.Attempts)).Single());
        Assert.Equal(9, rows.Single(r => r.IdMs == urgent.IdMs).Priority);
        Assert.Equal(other.Length, state.ReadActive("other", int.MaxValue, _ => { }));
        Assert.Equal((23L, 5L), (state.ReadBooks("q")[WriteOp.Accepted], state.ReadBooks("other")[WriteOp.Accepted]));
        Assert.Equal("{\"n\":1}", System.Text.Encoding.UTF8.GetString(state.ReadPayload("other", other[4].IdMs, other[4].IdSeq)!));
    }

    [Fact]
    public async Task AnIntakeWhoseCallerGaveUpBeforeTheWriterTookItIsNeverWritten()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        using var hold = new ManualResetEventSlim(false);
        writer.HoldGroups = hold;
        var lateCommits = 0;

        // The writer holds its group past the caller's wait: the caller abandons the unit and answers "not kept".
        var abandoned = writer.Submit(new WriteUnit(WriteOp.Insert(TempDatabase.Message())));
        Assert.False(await abandoned.CommittedAsync(TimeSpan.FromMilliseconds(50), () => lateCommits++));
        hold.Set();
        await writer.Write(WriteOp.Insert(TempDatabase.Message())).WaitAsync(Bound, TestContext.Current.CancellationToken);

        using var state = new StoredState(database);
        Assert.Equal(1, TempDatabase.CountStored(database, "q"));
        Assert.Equal(1, state.ReadBooks("q")[WriteOp.Accepted]);
        Assert.False(abandoned.Completion.IsCompleted);
        Assert.Equal(0, lateCommits);
    }

    /// <summary>A unit taken but slow to commit gets a second wait; if it commits after both, its late action still runs.</summary>
    [Fact]
    public async Task AUnitTakenButCommittedAfterBothWaitsRunsItsLateActionOnce()
    {
        var unit = new WriteUnit(WriteOp.Insert(TempDatabase.Message()));
        Assert.True(unit.TryTake()); // the writer has it: its commit is under way
        var late = 0;
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.False(await unit.CommittedAsync(TimeSpan.FromMilliseconds(20), () =>
        {
            Interlocked.Increment(ref late);
            ran.TrySetResult();
        }));
        Assert.Equal(0, Volatile.Read(ref late));
        unit.Succeed();

        await ran.Task.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(1, Volatile.Read(ref late));
        Assert.False(unit.TryAbandon());
    }

    [Fact]
    public async Task AUnitTakenThatFailsAfterBothWaitsNeverRunsItsLateAction()
    {
        var unit = new WriteUnit(WriteOp.Insert(TempDatabase.Message()));
        Assert.True(unit.TryTake());
        var late = 0;

        Assert.False(await unit.CommittedAsync(TimeSpan.FromMilliseconds(20), () => late++));
        unit.Fail(new SqliteStorageException("disk full"));

        await Assert.ThrowsAsync<SqliteStorageException>(() => unit.Completion.WaitAsync(Bound, TestContext.Current.CancellationToken));
        Assert.Equal(0, late);
    }

    [Fact]
    public async Task AUnitTheWriterHasTakenCanNoLongerBeAbandoned()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);

        var unit = writer.Submit(new WriteUnit(WriteOp.Insert(TempDatabase.Message())));
        Assert.True(await unit.CommittedAsync(Bound, () => { }));

        Assert.False(unit.TryAbandon());
    }

    [Fact]
    public void TheWriterIsOneNamedBackgroundThread()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database, "sqlite-writer-under-test");

        Assert.Equal("sqlite-writer-under-test", writer.Thread.Name);
        Assert.True(writer.Thread.IsBackground);
        Assert.True(writer.IsRunning);
    }

    [Fact]
    public async Task ABatchCommitsWhollyAndMovesTheBooksOnce()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        var batch = Enumerable.Range(0, 100).Select(_ => WriteOp.Insert(TempDatabase.Message())).ToArray();

        await writer.Write(batch).WaitAsync(Bound, TestContext.Current.CancellationToken);

        using var state = new StoredState(database);
        Assert.Equal(100, state.ReadBooks("q")[WriteOp.Accepted]);
        Assert.Equal(1, writer.Transactions);
    }

    [Fact]
    public async Task AFullDiskFailsTheGroupWithAStorageErrorKeepsNothingOfItAndTheWriterGoesOn()
    {
        using var temp = new TempDatabase();
        using (temp.Open())
        {
            // Created at the normal size first; the cap applies to the connections opened next.
        }

        temp.Options.MaxPageCount = 40;
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        var committed = 0;
        SqliteStorageException? failure = null;
        for (var i = 0; i < 1000 && failure is null; i++)
        {
            var batch = Enumerable.Range(0, 10).Select(_ => WriteOp.Insert(TempDatabase.Message(payload: new string('x', 400)))).ToArray();
            try
            {
                await writer.Write(batch).WaitAsync(Bound, TestContext.Current.CancellationToken);
                committed += batch.Length;
            }
            catch (SqliteStorageException ex)
            {
                failure = ex;
            }
        }

        Assert.NotNull(failure);
        Assert.Contains(temp.FilePath, failure.Message, StringComparison.Ordinal);
        Assert.IsType<SqliteException>(failure.InnerException);
        Assert.NotNull(writer.LastFault);
        Assert.True(writer.IsRunning);

        // Nothing half-written: the rows and the books hold exactly the committed batches.
        using var state = new StoredState(database);
        Assert.Equal(committed, TempDatabase.CountStored(database, "q"));
        Assert.Equal(committed, state.ReadBooks("q")[WriteOp.Accepted]);

        // The writer lives on: a change that needs no new page commits, and clears the fault.
        await writer.Write(WriteOp.SetPaused("q", false)).WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Null(writer.LastFault);
    }

    [Fact]
    public async Task WritesAfterStopFailWithAStorageError()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        Assert.True(writer.Stop(Bound));

        await Assert.ThrowsAsync<SqliteStorageException>(() => writer.Write(WriteOp.Insert(TempDatabase.Message())).WaitAsync(Bound, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task StopWritesWhatIsPendingFirst()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        var writer = new GroupCommitWriter(database);
        var writes = Enumerable.Range(0, 200).Select(_ => writer.Write(WriteOp.Insert(TempDatabase.Message()))).ToArray();
        writer.Dispose();

        await Task.WhenAll(writes).WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(200, TempDatabase.CountStored(database, "q"));
    }

    [Fact]
    public async Task FinishedRowsBeyondRetentionArePrunedSoTheFileStopsGrowing()
    {
        using var temp = new TempDatabase();
        using var database = temp.Open();
        using var writer = new GroupCommitWriter(database);
        writer.SetRetention("q", 100);

        var messages = Enumerable.Range(0, 2000).Select(_ => TempDatabase.Message()).ToArray();
        await writer.Write(messages.Select(WriteOp.Insert).ToArray()).WaitAsync(Bound, TestContext.Current.CancellationToken);
        var now = DateTime.UtcNow.Ticks;
        for (var i = 0; i < messages.Length; i += 100)
        {
            var finishes = messages.Skip(i).Take(100).Select((m, j) => WriteOp.Finish(m.IdMs, m.IdSeq, m.Queue, StoredStatus.Succeeded, now + i + j, null)).ToArray();
            await writer.Write(finishes).WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        using var state = new StoredState(database);
        var kept = state.ReadFinished("q");
        Assert.InRange(kept.Count, 100, 100 + 64 + 100);
        // The newest are the ones kept.
        Assert.Equal(messages[^1].IdMs, kept[^1].IdMs);
        // The books still count every success.
        Assert.Equal(2000, state.ReadBooks("q")[WriteOp.Succeeded]);
    }
}
