using System.Diagnostics;
using Microsoft.Data.Sqlite;
using QueueApi.Storage.Sqlite.Database;

namespace QueueApi.Storage.Sqlite.Tests;

public sealed class DatabaseOpeningTests
{
    [Fact]
    public void ANewFileIsCreatedInItsFolderInWalModeAtTheCurrentSchemaVersion()
    {
        using var temp = new TempDatabase();
        using (var database = temp.Open())
        {
            Assert.Equal(0, database.FoundVersion);
            using var connection = database.OpenConnection();
            Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode;"));
            Assert.Equal((long)Schema.CurrentVersion, Scalar(connection, "PRAGMA user_version;"));
            Assert.Equal(1L, Scalar(connection, "PRAGMA synchronous;")); // NORMAL
        }

        Assert.True(File.Exists(temp.FilePath));
        using var again = temp.Open();
        Assert.Equal(Schema.CurrentVersion, again.FoundVersion);
    }

    [Fact]
    public void FullSynchronousIsAppliedToEveryConnection()
    {
        using var temp = new TempDatabase();
        temp.Options.Synchronous = SqliteSynchronous.Full;
        using var database = temp.Open();
        using var connection = database.OpenConnection();
        Assert.Equal(2L, Scalar(connection, "PRAGMA synchronous;"));
    }

    [Fact]
    public void AFileFromANewerSchemaIsRefusedAndLeftAsItWas()
    {
        using var temp = new TempDatabase();
        using (var database = temp.Open())
        {
            using var connection = database.OpenConnection();
            Scalar(connection, $"PRAGMA user_version = {Schema.CurrentVersion + 1};");
        }

        var error = Assert.Throws<StorageStartupException>(temp.Open);
        Assert.Contains(temp.FilePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        using var check = new SqliteConnection($"Data Source={temp.FilePath};Pooling=False");
        check.Open();
        Assert.Equal((long)Schema.CurrentVersion + 1, Scalar(check, "PRAGMA user_version;"));
    }

    [Fact]
    public async Task AVersion1FileMigratesAtStartUpAndKeepsItsMessages()
    {
        using var temp = new TempDatabase();
        WriteOldFile(
            temp,
            1,
            "INSERT INTO messages (queue, id_ms, id_seq, payload, status, enqueued_at) VALUES ('q', 1700000000000, 1, x'7B7D', 0, 1);",
            "INSERT INTO books (queue, counter, value) VALUES ('q', 'accepted', 1);");

        using var storage = new Queues.SqliteStorage(temp.Options, temp.Folder, TimeProvider.System);
        var store = storage.Open("q", new Engine.Configuration.QueueOptions());
        Assert.True(store.TryClaimNow(new Engine.Storage.WorkerSlot(0, "q-1"), out var message));
        Assert.Equal(("{}", (DateTimeOffset?)null, (string?)null), (System.Text.Encoding.UTF8.GetString(message!.Payload), message.DueAt, message.TraceParent));
        var keyed = new Engine.Messages.QueueMessage(Engine.Messages.MessageId.Next(DateTimeOffset.UtcNow), "q", [1], DateTimeOffset.UtcNow);
        keyed.SetIdempotencyKey("k", "h");
        Assert.Equal(Engine.Storage.EnqueueStatus.Accepted, await store.EnqueueAsync(keyed, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void AVersion2FileMigratesAtStartUpAndItsMessagesTakeTheDefaultPriority()
    {
        using var temp = new TempDatabase();
        WriteOldFile(
            temp,
            2,
            "INSERT INTO messages (queue, id_ms, id_seq, payload, status, enqueued_at) VALUES ('q', 1700000000000, 1, x'7B7D', 0, 1);",
            "INSERT INTO messages (queue, id_ms, id_seq, payload, status, enqueued_at) VALUES ('q', 1700000000000, 2, x'7B7D', 0, 2);");

        using var storage = new Queues.SqliteStorage(temp.Options, temp.Folder, TimeProvider.System);
        var store = storage.Open("q", new Engine.Configuration.QueueOptions());
        Assert.Equal([(5, 2)], store.Priorities().Select(l => (l.Priority, l.Queued)));
        Assert.True(store.TryClaimNow(new Engine.Storage.WorkerSlot(0, "q-1"), out var message));
        Assert.Equal(Engine.Messages.MessagePriority.Default, message!.Priority);
    }

    /// <summary>Version 4 packed rows without id bounds: the migration keeps them and the open expands them into message rows.</summary>
    [Fact]
    public void AVersion4FileWithPackedRowsMigratesAndItsPackedMessagesAreKept()
    {
        using var temp = new TempDatabase();
        // Two messages packed as version 4 wrote them: per message id_ms, id_seq, enqueued_at, payload length, payload.
        WriteOldFile(
            temp,
            4,
            "INSERT INTO intake (queue, count, rows) VALUES ('q', 2, x'0068E5CF8B010000010000000100000000000000020000007B7D0068E5CF8B010000020000000200000000000000020000007B7D');",
            "INSERT INTO books (queue, counter, value) VALUES ('q', 'accepted', 2);");

        using var storage = new Queues.SqliteStorage(temp.Options, temp.Folder, TimeProvider.System);
        var store = storage.Open("q", new Engine.Configuration.QueueOptions());
        var slot = new Engine.Storage.WorkerSlot(0, "q-1");
        Assert.True(store.TryClaimNow(slot, out var first));
        Assert.True(store.TryClaimNow(slot, out var second));
        Assert.Equal(("{}", 1L, 2L), (System.Text.Encoding.UTF8.GetString(first!.Payload), first.EnqueuedAt.UtcTicks, second!.EnqueuedAt.UtcTicks));
        Assert.Equal((2L, 0), (store.Counts().Accepted, store.Counts().Queued));
    }

    [Fact]
    public void AFileThatIsNotADatabaseIsRefusedWithItsNameAndNeverWiped()
    {
        using var temp = new TempDatabase();
        Directory.CreateDirectory(Path.GetDirectoryName(temp.FilePath)!);
        var garbage = new byte[8192];
        new Random(42).NextBytes(garbage);
        File.WriteAllBytes(temp.FilePath, garbage);

        var error = Assert.Throws<StorageStartupException>(temp.Open);

        Assert.Contains(temp.FilePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
        Assert.Equal(garbage, File.ReadAllBytes(temp.FilePath));
    }

    [Fact]
    public void ADatabaseWithADamagedPageIsRefusedAtStartUp()
    {
        using var temp = new TempDatabase();
        using (var database = temp.Open())
        {
            using var connection = database.OpenConnection();
            Scalar(connection, "CREATE TABLE filler (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO filler SELECT randomblob(3000) FROM n;");
            Scalar(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }

        // Scribble over the middle pages (b-tree pages of the table), leaving the header intact.
        var bytes = File.ReadAllBytes(temp.FilePath);
        for (var i = 4096 * 3; i < 4096 * 40 && i < bytes.Length; i++)
        {
            bytes[i] = 0xA5;
        }

        File.WriteAllBytes(temp.FilePath, bytes);

        var error = Assert.Throws<StorageStartupException>(temp.Open);

        Assert.Contains(temp.FilePath, error.Message, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(temp.FilePath));
    }

    [Fact]
    public void ASecondOpenInTheSameProcessIsRefusedWhileTheFirstHoldsTheFile()
    {
        using var temp = new TempDatabase();
        using var first = temp.Open();

        var error = Assert.Throws<StorageStartupException>(temp.Open);

        Assert.Contains(temp.FilePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("in use by another", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherProcessHoldingTheLockKeepsThisOneFromOpeningUntilItExits()
    {
        using var temp = new TempDatabase();
        using (temp.Open())
        {
            // Creates the folder and the lock file.
        }

        // util-linux flock takes the same kind of lock (flock LOCK_EX) that .NET takes for FileShare.None.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", temp.FilePath + ".lock", "sh", "-c", "echo held; read line"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            var held = await holder.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            Assert.Equal("held", held);

            var error = Assert.Throws<StorageStartupException>(temp.Open);
            Assert.Contains(temp.FilePath, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            holder.StandardInput.Close();
            await holder.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }

        using var afterwards = temp.Open();
        Assert.Equal(Schema.CurrentVersion, afterwards.FoundVersion);
    }

    /// <summary>A file as a build of schema <paramref name="version"/> left it, with some rows; then opens it once (migrating).</summary>
    private static void WriteOldFile(TempDatabase temp, int version, params string[] rows)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(temp.FilePath)!);
        using (var old = new SqliteConnection($"Data Source={temp.FilePath};Pooling=False"))
        {
            old.Open();
            Scalar(old, string.Concat(Enumerable.Range(1, version).Select(Schema.Migration)) + $"PRAGMA user_version = {version};");
            foreach (var row in rows)
            {
                Scalar(old, row);
            }
        }

        using var database = temp.Open();
        Assert.Equal(version, database.FoundVersion);
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
