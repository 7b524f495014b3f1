using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Tests.Scheduling;
using QueueApi.Storage.Sqlite.Schedules;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>
/// The SQLite schedule store against the schedule store contract: every <see cref="OpenStore"/> is a new instance
/// over the same file, as a restarted process or another replica opens it.
/// </summary>
public sealed class SqliteScheduleStoreContractTests : DurableScheduleStoreContractTests, IDisposable
{
    private readonly TempDatabase _temp = new();

    protected override IScheduleStore OpenStore() => new SqliteScheduleStore(SqliteScheduleStore.BesideDatabase(_temp.FilePath));

    [Fact]
    public void TheScheduleFileSitsBesideTheMessageDatabase() =>
        Assert.Equal(Path.Combine(_temp.Folder, "data", "queueapi.schedules.db"), ((SqliteScheduleStore)OpenStore()).FilePath);

    [Fact]
    public async Task ClaimsRacingThroughOneStoreShareATransactionYetOnlyOneMovesTheCursor()
    {
        var store = OpenStore();
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await store.PutAsync(new ScheduleDefinition("s", "q", "* * * * *", "UTC", "{}"u8.ToArray()), t0, TestContext.Current.CancellationToken);
        var wins = new bool[16];
        using var start = new Barrier(wins.Length);
        // Threads of their own, all released at once, so the claims meet at the store's commit gate.
        var threads = Enumerable.Range(0, wins.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            wins[i] = store.TryAdvanceAsync("s", t0, t0.AddMinutes(i + 1), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }) { IsBackground = true, Name = $"claim {i}" }).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(30))));

        Assert.Single(wins, w => w);
        Assert.Equal(t0.AddMinutes(Array.IndexOf(wins, true) + 1), (await store.GetAsync("s", TestContext.Current.CancellationToken))!.Cursor);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // Pooled connections hold the file open.
        _temp.Dispose();
    }
}
