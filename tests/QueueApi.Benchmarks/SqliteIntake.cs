using System.Diagnostics;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;
using QueueApi.Storage.Sqlite;
using QueueApi.Storage.Sqlite.Database;
using QueueApi.Storage.Sqlite.Queues;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Benchmarks;

/// <summary>
/// The durable store against the memory store without HTTP, in interleaved rounds: concurrent single enqueues and
/// batches of 100 on a fresh store each, with two consumer threads claiming and finishing (as workers do) or
/// without (ingest alone), and the SQLite writer's figures (units per commit, share of time busy). Where the time
/// goes, not a target: the targets are run.sh --storage's, over HTTP.
/// </summary>
internal static class SqliteIntake
{
    private const int Producers = 32;
    private const int BatchProducers = 8;
    private const int BatchSize = 100;
    private static readonly byte[] Payload = new byte[100];

    public static void Run(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5;
        var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2;
        var folder = Directory.CreateTempSubdirectory("queueapi-bench-intake-").FullName;
        var figures = new Dictionary<string, List<double>>();
        try
        {
            RawRows(folder);
            for (var r = 1; r <= rounds; r++)
            {
                foreach (var consumers in new[] { 0, 2 })
                {
                    foreach (var batch in new[] { false, true })
                    {
                        var name = $"{(batch ? "batch" : "single")}{(consumers > 0 ? " +consumers" : "")}";
                        var mem = Phase(null, batch, consumers, seconds);
                        var lite = Phase(Path.Combine(folder, $"r{r}-{consumers}-{batch}.db"), batch, consumers, seconds);
                        // The same store with packed intake (PackIntake, opt-in), for the packing's effect.
                        var packed = Phase(Path.Combine(folder, $"r{r}-{consumers}-{batch}-packed.db"), batch, consumers, seconds, pack: true);
                        Add(figures, name + " memory", mem);
                        Add(figures, name + " sqlite", lite);
                        Add(figures, name + " ratio", lite / mem);
                        Add(figures, name + " packed ratio", packed / mem);
                        Console.WriteLine($"round {r} {name}: memory {mem:N0} msg/s, sqlite {lite:N0} msg/s, {lite / mem:N3}x; packed intake {packed:N0} msg/s, {packed / mem:N3}x");
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine($"## SQLite intake against memory, in process ({rounds} interleaved rounds of {seconds} s; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
            Console.WriteLine();
            foreach (var (name, values) in figures)
            {
                Console.WriteLine($"{name}: median {ResultTable.Median(values):N3}");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Add(Dictionary<string, List<double>> figures, string name, double value)
    {
        if (!figures.TryGetValue(name, out var list))
        {
            figures[name] = list = [];
        }

        list.Add(value);
    }

    /// <summary>Messages accepted per second on a fresh store; for SQLite, prints the writer's figures.</summary>
    private static double Phase(string? file, bool batch, int consumers, double seconds, bool pack = false)
    {
        IMessageStorage storage = file is null
            ? new MemoryStorage(TimeProvider.System)
            : new SqliteStorage(new SqliteStorageOptions { Path = file, PackIntake = pack }, Path.GetDirectoryName(file)!, TimeProvider.System);
        using (storage)
        {
            var store = storage.Open("q", new QueueOptions { Capacity = 20_000_000, Workers = 2, RetainFinished = 1000 });
            using var stop = new CancellationTokenSource();
            var finished = new long[consumers];
            var threads = Enumerable.Range(0, consumers).Select(i => new Thread(() => Consume(store, i, finished, stop.Token)) { IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            var writer = (storage as SqliteStorage)?.Writer;
            var (tx0, units0, busy0) = writer is null ? (0L, 0L, 0L) : (writer.Transactions, writer.Units, writer.BusyTicks);
            var (run0, wait0) = SchedStat("queueapi-sqlite");
            long accepted = 0;
            var clock = Stopwatch.StartNew();
            var until = TimeSpan.FromSeconds(seconds);
            var queue = new WorkQueueShim(store);
            var producers = Enumerable.Range(0, batch ? BatchProducers : Producers).Select(_ => Task.Run(async () =>
            {
                long n = 0;
                while (clock.Elapsed < until)
                {
                    var status = batch
                        ? await store.EnqueueBatchAsync(queue.NewBatch(BatchSize), CancellationToken.None).ConfigureAwait(false)
                        : await store.EnqueueAsync(queue.New(), CancellationToken.None).ConfigureAwait(false);
                    if (status == EnqueueStatus.Accepted)
                    {
                        n += batch ? BatchSize : 1;
                    }
                }

                Interlocked.Add(ref accepted, n);
            })).ToArray();
            Task.WaitAll(producers, TimeSpan.FromMinutes(2));
            var elapsed = clock.Elapsed.TotalSeconds;
            stop.Cancel();
            threads.ForEach(t => t.Join(TimeSpan.FromSeconds(10)));
            if (writer is not null)
            {
                var tx = writer.Transactions - tx0;
                var units = writer.Units - units0;
                var busy = Stopwatch.GetElapsedTime(0, writer.BusyTicks - busy0).TotalSeconds;
                var (run1, wait1) = SchedStat("queueapi-sqlite");
                Console.WriteLine(
                    $"  sqlite writer{(pack ? " (packed intake)" : "")}: {tx:N0} commits, {(double)units / Math.Max(1, tx):N1} units per commit, busy {busy / elapsed:P0} of the time, {busy * 1e6 / Math.Max(1, tx):N0} µs per commit; " +
                    $"on a core {(run1 - run0) / 1e9 / elapsed:P0} of the time ({(run1 - run0) / 1e3 / Math.Max(1, accepted):N2} µs per message), waiting for one {(wait1 - wait0) / 1e9 / elapsed:P0}");
            }

            if (consumers > 0)
            {
                // Under a full intake the workers must still get through: what they finished beside the flood.
                Console.WriteLine($"  {(writer is null ? "memory" : "sqlite")} consumers finished {finished.Sum() / elapsed:N0} msg/s beside {accepted / elapsed:N0} msg/s accepted");
            }

            store.StopAccepting();
            return accepted / elapsed;
        }
    }

    /// <summary>The writer alone: 200,000 rows in units of 1,000, its time on a core per row (the floor a batch pays).</summary>
    private static void RawRows(string folder)
    {
        using var database = SqliteDatabase.Open(new SqliteStorageOptions { Path = "raw.db" }, folder);
        using var writer = new GroupCommitWriter(database);
        var now = DateTime.UtcNow.Ticks;
        var ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var (run0, _) = SchedStat("queueapi-sqlite");
        var clock = Stopwatch.StartNew();
        var pending = new List<Task>();
        for (var u = 0; u < 200; u++)
        {
            var ops = new WriteOp[1000];
            for (var i = 0; i < ops.Length; i++)
            {
                ops[i] = WriteOp.Insert(ms, (uint)((u * 1000) + i), "q", Payload, now);
            }

            pending.Add(writer.Write(ops));
        }

        Task.WaitAll([.. pending], TimeSpan.FromMinutes(2));
        var (run1, _) = SchedStat("queueapi-sqlite");
        Console.WriteLine($"raw: 200,000 rows of 100 bytes in units of 1,000: {200_000 / clock.Elapsed.TotalSeconds:N0} rows/s wall, writer {(run1 - run0) / 200_000.0 / 1e3:N2} µs on a core per row ({1e9 * 200_000 / Math.Max(1, run1 - run0):N0} rows per core-second)");
    }

    /// <summary>The named thread's time on a core and time runnable but waiting for one, in ns (Linux; zeros elsewhere).</summary>
    private static (long Run, long Wait) SchedStat(string thread)
    {
        foreach (var task in Directory.Exists("/proc/self/task") ? Directory.GetDirectories("/proc/self/task") : [])
        {
            if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == thread)
            {
                var parts = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                return (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return (0, 0);
    }

    /// <summary>Claims, starts and finishes as a worker does, with no handler.</summary>
    private static void Consume(IQueueStore store, int index, long[] finished, CancellationToken stop)
    {
        var slot = new WorkerSlot(index, $"q-{index}");
        while (!stop.IsCancellationRequested)
        {
            if (store.TryClaim(slot, out var message, TimeSpan.FromMilliseconds(100), stop) != TakeResult.Taken)
            {
                continue;
            }

            var now = DateTimeOffset.UtcNow;
            store.Processing(message!, slot, now);
            store.AttemptStarted(message!, slot);
            store.Finish(message!, slot, MessageStatus.Succeeded, null, DateTimeOffset.UtcNow.UtcTicks);
            finished[index]++;
        }
    }

    private sealed class WorkQueueShim(IQueueStore store)
    {
        public QueueMessage New()
        {
            var now = DateTimeOffset.UtcNow;
            return new QueueMessage(MessageId.Next(now), store.QueueName, Payload, now);
        }

        public QueueMessage[] NewBatch(int count)
        {
            var now = DateTimeOffset.UtcNow;
            var first = MessageId.NextRange(now, count);
            var batch = new QueueMessage[count];
            for (var i = 0; i < count; i++)
            {
                batch[i] = new QueueMessage(first with { Seq = unchecked(first.Seq + (uint)i) }, store.QueueName, Payload, now);
            }

            return batch;
        }
    }
}
