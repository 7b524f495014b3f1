using QueueApi.Storage.Sqlite.Recovery;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Tests;

public sealed class RecoveryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task QueuedMessagesSurviveAReopenInIdOrderWithTheirPayloads()
    {
        using var temp = new TempDatabase();
        var messages = Enumerable.Range(0, 50).Select(i => TempDatabase.Message(payload: $"{{\"n\":{i}}}")).ToArray();
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            await TempDatabase.WriteAll(writer, messages.Reverse().Select(WriteOp.Insert));
        }

        using var reopened = temp.Open();
        using var state = new StoredState(reopened);
        var rows = new List<ActiveRow>();
        state.ReadActive("q", int.MaxValue, rows.Add);
        Assert.Equal(messages.Select(m => m.IdMs), rows.Select(r => r.IdMs));
        Assert.Equal("{\"n\":7}", System.Text.Encoding.UTF8.GetString(state.ReadPayload("q", rows[7].IdMs, rows[7].IdSeq)!));
    }

    [Fact]
    public async Task AMessageLeftInFlightGoesBackToTheQueueWithItsAttemptCountedAndOneCrash()
    {
        using var temp = new TempDatabase();
        var m = TempDatabase.Message();
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            await TempDatabase.WriteAll(writer, [WriteOp.Insert(m), WriteOp.Claim(m.IdMs, m.IdSeq, m.Queue, 1, DateTime.UtcNow.Ticks, "q-0")]);
        }

        using var reopened = temp.Open();
        var crashes = StartupRecovery.Run(reopened, "q", CrashPolicy.Default, DateTime.UtcNow.Ticks);

        var crash = Assert.Single(crashes);
        Assert.Equal(StoredStatus.Queued, crash.Now);
        using var state = new StoredState(reopened);
        var rows = new List<ActiveRow>();
        state.ReadActive("q", int.MaxValue, rows.Add);
        var row = Assert.Single(rows);
        Assert.Equal((StoredStatus.Queued, 1, 1), (row.Status, row.Attempts, row.Crashes));
    }

    [Fact]
    public async Task AMessageInFlightAtMaxCrashesDeathsIsDeadLetteredAsPoisonAndCountedOnce()
    {
        using var temp = new TempDatabase();
        var m = TempDatabase.Message();
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            await TempDatabase.WriteAll(writer, [WriteOp.Insert(m), WriteOp.Claim(m.IdMs, m.IdSeq, m.Queue, 1, DateTime.UtcNow.Ticks, "q-0")]);
        }

        var policy = new CrashPolicy(MaxCrashes: 2, MaxAttempts: 5);
        using (var database = temp.Open())
        {
            Assert.Equal(StoredStatus.Queued, Assert.Single(StartupRecovery.Run(database, "q", policy, DateTime.UtcNow.Ticks)).Now);
            using var writer = new GroupCommitWriter(database);
            await writer.Write(WriteOp.Claim(m.IdMs, m.IdSeq, m.Queue, 2, DateTime.UtcNow.Ticks, "q-1")).WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        using var reopened = temp.Open();
        var crash = Assert.Single(StartupRecovery.Run(reopened, "q", policy, DateTime.UtcNow.Ticks));

        Assert.Equal(StoredStatus.DeadLettered, crash.Now);
        Assert.Equal("crashed the worker 2 times (poison message)", crash.Reason);
        using var state = new StoredState(reopened);
        Assert.Equal(0, state.ReadActive("q", int.MaxValue, _ => { }));
        var dead = Assert.Single(state.ReadFinished("q"));
        Assert.Equal((StoredStatus.DeadLettered, 2, "crashed the worker 2 times (poison message)"), (dead.Status, dead.Crashes, dead.Error));
        var books = state.ReadBooks("q");
        Assert.Equal((1, 1), (books[WriteOp.Accepted], books[WriteOp.DeadLettered]));
        // A second start finds nothing more to recover.
        Assert.Empty(StartupRecovery.Run(reopened, "q", policy, DateTime.UtcNow.Ticks));
    }

    [Fact]
    public async Task ACrashedMessageWithItsAttemptsUsedUpIsDeadLetteredInsteadOfRunningAgain()
    {
        using var temp = new TempDatabase();
        var m = TempDatabase.Message();
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            await TempDatabase.WriteAll(writer, [WriteOp.Insert(m), WriteOp.Claim(m.IdMs, m.IdSeq, m.Queue, 3, DateTime.UtcNow.Ticks, "q-0")]);
        }

        using var reopened = temp.Open();
        var crash = Assert.Single(StartupRecovery.Run(reopened, "q", new CrashPolicy(5, 3), DateTime.UtcNow.Ticks));

        Assert.Equal(StoredStatus.DeadLettered, crash.Now);
        Assert.Equal(CrashPolicy.ExhaustedReason(3), crash.Reason);
    }

    [Fact]
    public async Task ARetryingMessageKeepsItsNextAttemptTimeAndCountsNoCrash()
    {
        using var temp = new TempDatabase();
        var m = TempDatabase.Message();
        var next = DateTime.UtcNow.AddMinutes(5).Ticks;
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            await TempDatabase.WriteAll(writer, [
                WriteOp.Insert(m),
                WriteOp.Claim(m.IdMs, m.IdSeq, m.Queue, 1, DateTime.UtcNow.Ticks, "q-0"),
                WriteOp.Retry(m.IdMs, m.IdSeq, m.Queue, next, "boom"),
            ]);
        }

        using var reopened = temp.Open();
        Assert.Empty(StartupRecovery.Run(reopened, "q", CrashPolicy.Default, DateTime.UtcNow.Ticks));
        using var state = new StoredState(reopened);
        var rows = new List<ActiveRow>();
        state.ReadActive("q", int.MaxValue, rows.Add);
        var row = Assert.Single(rows);
        Assert.Equal((StoredStatus.Retrying, 1, 0, (long?)next), (row.Status, row.Attempts, row.Crashes, row.NextAttemptAt));
    }

    [Fact]
    public async Task TheBooksAndThePausedFlagSurviveAReopen()
    {
        using var temp = new TempDatabase();
        var ok = TempDatabase.Message();
        var gone = TempDatabase.Message();
        var now = DateTime.UtcNow.Ticks;
        using (var database = temp.Open())
        using (var writer = new GroupCommitWriter(database))
        {
            await TempDatabase.WriteAll(writer, [
                WriteOp.Insert(ok), WriteOp.Insert(gone),
                WriteOp.Claim(ok.IdMs, ok.IdSeq, ok.Queue, 1, now, "q-0"),
                WriteOp.Finish(ok.IdMs, ok.IdSeq, ok.Queue, StoredStatus.Succeeded, now, null),
                WriteOp.Finish(gone.IdMs, gone.IdSeq, gone.Queue, StoredStatus.DeadLettered, now, "boom"),
                WriteOp.DeleteDeadLetter(gone.IdMs, gone.IdSeq, gone.Queue, "deleted from dead letters"),
                WriteOp.SetPaused("q", true),
            ]);
        }

        using var reopened = temp.Open();
        using var state = new StoredState(reopened);
        var books = state.ReadBooks("q");
        Assert.Equal(2, books[WriteOp.Accepted]);
        Assert.Equal(1, books[WriteOp.Succeeded]);
        Assert.Equal(0, books[WriteOp.DeadLettered]);
        Assert.Equal(1, books[WriteOp.DroppedPrefix + "deleted from dead letters"]);
        Assert.True(state.ReadPaused("q"));
        Assert.False(state.ReadPaused("other"));
    }
}
