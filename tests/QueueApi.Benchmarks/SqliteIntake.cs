using System.Diagnostics;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;
using QueueApi.Storage.Sqlite;
using QueueApi.Storage.Sqlite.Queues;

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
            for (var r = 1; r <= rounds; r++)
            {
                foreach (var consumers in new[] { 0, 2 })
                {
                    foreach (var batch in new[] { false, true })
                    {
                        var name = $"{(batch ? "batch" : "single")}{(consumers > 0 ? " +consumers" : "")}";
                        var mem = Phase(null, batch, consumers, seconds);
                        var lite = Phase(Path.Combine(folder, $"r{r}-{consumers}-{batch}.db"), batch, consumers, seconds);
                        Add(figures, name + " memory", mem);
                        Add(figures, name + " sqlite", lite);
                        Add(figures, name + " ratio", lite / mem);
                        Console.WriteLine($"round {r} {name}: memory {mem:N0} msg/s, sqlite {lite:N0} msg/s, {lite / mem:N3}x");
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
    private static double Phase(string? file, bool batch, int consumers, double seconds)
    {
        IMessageStorage storage = file is null
            ? new MemoryStorage(TimeProvider.System)
            : new SqliteStorage(new SqliteStorageOptions { Path = file }, Path.GetDirectoryName(file)!, TimeProvider.System);
        using (storage)
        {
            var store = storage.Open("q", new QueueOptions { Capacity = 20_000_000, Workers = 2, RetainFinished = 1000 });
            using var stop = new CancellationTokenSource();
            var threads = Enumerable.Range(0, consumers).Select(i => new Thread(() => Consume(store, i, stop.Token)) { IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            var writer = (storage as SqliteStorage)?.Writer;
            var (tx0, units0, busy0) = writer is null ? (0L, 0L, 0L) : (writer.Transactions, writer.Units, writer.BusyTicks);
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
                Console.WriteLine($"  sqlite writer: {tx:N0} commits, {(double)units / Math.Max(1, tx):N1} units per commit, busy {busy / elapsed:P0} of the time, {busy * 1e6 / Math.Max(1, tx):N0} µs per commit");
            }

            store.StopAccepting();
            return accepted / elapsed;
        }
    }

    /// <summary>Claims, starts and finishes as a worker does, with no handler.</summary>
    private static void Consume(IQueueStore store, int index, CancellationToken stop)
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
