using System.Diagnostics;
using QueueApi.Storage.Sqlite;
using QueueApi.Storage.Sqlite.Database;
using QueueApi.Engine.Configuration;
using QueueApi.Storage.Sqlite.Queues;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Benchmarks;

/// <summary>
/// The SQLite store's scale figures: a start-up that finds a million queued messages (time, memory), and the file
/// size after a million processed messages with the default retention (it settles, because finished rows are pruned).
/// </summary>
internal static class SqliteStartup
{
    private const int Messages = 1_000_000;
    private static readonly byte[] Payload = """{"orderId":12345,"action":"ship"}"""u8.ToArray();

    /// <param name="pack">True packs the intake (PackIntake, opt-in): <c>sqlite packed</c>.</param>
    /// <param name="batch">
    /// Messages per write unit: packed, a row each. 1,000 is a producer of large batches; 10 is close to what single
    /// enqueues sharing a group commit leave (many small rows, each start then reads more rows and pages).
    /// </param>
    public static void Run(bool pack = false, int batch = 1_000)
    {
        var folder = Directory.CreateTempSubdirectory("queueapi-bench-sqlite-").FullName;
        try
        {
            var options = new SqliteStorageOptions { Path = "queueapi.db", PackIntake = pack };
            Console.WriteLine($"sqlite: {(pack ? "packed intake" : "a row per message (PackIntake off)")}");
            var path = Path.Combine(folder, "queueapi.db");
            var written = Fill(options, folder, batch, processAll: false);
            Console.WriteLine($"sqlite: wrote {Messages:N0} queued messages in batches of {batch}: {Messages / written.TotalSeconds:N0} msg/s, file {Size(path)}");

            // In a process of its own, as a restarted service finds the file: the filling above leaves this process's
            // heap and the native allocator grown, which a resident figure taken here would count.
            StartInChild(folder, pack);

            File.Delete(path);
            var processed = Fill(options, folder, batch, processAll: true);
            Console.WriteLine($"sqlite: {Messages:N0} enqueued, claimed and finished (RetainFinished 1000): {Messages / processed.TotalSeconds:N0} msg/s; file settles at {Size(path)} (+ WAL {Size(path + "-wal")})");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// <c>sqlite-start FOLDER [packed]</c>: opens the file the parent filled, rebuilds the line, and prints the
    /// start-up's time and the resident memory with the queue loaded.
    /// </summary>
    public static void Start(string folder, bool pack)
    {
        var options = new SqliteStorageOptions { Path = "queueapi.db", PackIntake = pack };
        var before = Resident();
        var clock = Stopwatch.StartNew();
        using (SqliteDatabase.Open(options, folder))
        {
            // Opening alone: lock, check, migrate.
            Console.WriteLine($"sqlite: opening the file {clock.Elapsed.TotalSeconds:N2} s");
        }

        using var storage = new SqliteStorage(options, folder, TimeProvider.System);
        var store = storage.Open("bench", new QueueOptions { Capacity = Messages, Workers = 2 });
        clock.Stop();
        Console.WriteLine(
            $"sqlite: start-up in a fresh process (lock, check, migrate, recover, rebuild the line) with {store.QueuedCount:N0} queued: {clock.Elapsed.TotalSeconds:N2} s, " +
            $"resident {before / 1e6:N0} MB before -> {Resident() / 1e6:N0} MB with the queue loaded " +
            $"(managed heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:N0} MB, of it fragmented {GC.GetGCMemoryInfo().FragmentedBytes / 1e6:N0} MB)");
        GC.KeepAlive(store);
    }

    private static void StartInChild(string folder, bool pack)
    {
        var host = Environment.ProcessPath!;
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(SqliteStartup).Assembly.Location);
        }

        info.ArgumentList.Add("sqlite-start");
        info.ArgumentList.Add(folder);
        if (pack)
        {
            info.ArgumentList.Add("packed");
        }

        using var child = Process.Start(info)!;
        if (!child.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException("The start-up's process did not finish in 5 minutes.");
        }

        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"The start-up's process exited with {child.ExitCode}.");
        }
    }

    private static TimeSpan Fill(SqliteStorageOptions options, string folder, int batch, bool processAll)
    {
        using var database = SqliteDatabase.Open(options, folder);
        using var writer = new GroupCommitWriter(database);
        writer.SetRetention("bench", 1_000);
        var clock = Stopwatch.StartNew();
        var ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var now = DateTime.UtcNow.Ticks;
        var pending = new List<Task>();
        for (var start = 0; start < Messages; start += batch)
        {
            var inserts = new WriteOp[batch];
            for (var i = 0; i < batch; i++)
            {
                inserts[i] = WriteOp.Insert(new StoredMessage(ms, (uint)(start + i), "bench", Payload, now));
            }

            pending.Add(writer.Write(inserts));
            if (processAll)
            {
                var claims = new WriteOp[batch * 2];
                for (var i = 0; i < batch; i++)
                {
                    claims[2 * i] = WriteOp.Claim(ms, (uint)(start + i), "bench", 1, now, "bench-0");
                    claims[(2 * i) + 1] = WriteOp.Finish(ms, (uint)(start + i), "bench", StoredStatus.Succeeded, now + start + i, null);
                }

                pending.Add(writer.Write(claims));
            }

            if (pending.Count > 64)
            {
                Task.WaitAll(pending.ToArray(), TimeSpan.FromMinutes(1));
                pending.Clear();
            }
        }

        Task.WaitAll(pending.ToArray(), TimeSpan.FromMinutes(1));
        return clock.Elapsed;
    }

    private static long Resident()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static string Size(string path) => File.Exists(path) ? $"{new FileInfo(path).Length / 1e6:N1} MB" : "0 MB";
}
