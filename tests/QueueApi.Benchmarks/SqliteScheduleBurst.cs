using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Sqlite;
using QueueApi.Storage.Sqlite.Queues;
using QueueApi.Storage.Sqlite.Schedules;

namespace QueueApi.Benchmarks;

/// <summary>
/// Issue 16's burst on the default store: 10,000 schedules due in the same second through
/// <see cref="SqliteScheduleStore"/> and the SQLite message store (files in a temp folder, removed afterwards),
/// measured as <see cref="ScheduleBurst"/> measures memory, against a plain batch enqueue of as many messages through
/// the same kind of SQLite store, in one run. Medians of several rounds; each round fresh files, engine and scheduler.
/// </summary>
internal static class SqliteScheduleBurst
{
    private const int Rounds = 3;

    public static void Run(string[] args)
    {
        var schedules = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
        var folder = Directory.CreateTempSubdirectory("queueapi-bench-burst-").FullName;
        try
        {
            var burst = new List<double>();
            var batch = new List<double>();
            for (var round = 0; round < Rounds + 1; round++)
            {
                var (b, p) = (Burst(Path.Combine(folder, $"b{round}"), round == 0 ? 500 : schedules), Batch(Path.Combine(folder, $"p{round}"), schedules));
                Console.WriteLine($"round {round}{(round == 0 ? " (warm-up, 500)" : "")}: burst {b:N0} ms, plain batch {p:N1} ms");
                if (round > 0)
                {
                    burst.Add(b);
                    batch.Add(p);
                }
            }

            var burstMs = ResultTable.Median(burst);
            var batchMs = ResultTable.Median(batch);
            var table = new ResultTable($"SQLite schedules: {schedules:N0} due in the same second (median of {Rounds} rounds)");
            table.Add($"due second to all {schedules:N0} enqueued, ms", ResultTable.F(burstMs, "0"), "< 1000 ms", burstMs < 1000);
            table.Add("per occurrence, µs", ResultTable.F(burstMs * 1000 / schedules, "0"), "", null);
            table.Add($"plain batch enqueue of {schedules:N0} through the same store, ms", ResultTable.F(batchMs, "0.0"), "", null);
            table.Add("ratio: schedules / plain batch", ResultTable.F(burstMs / batchMs, "0.0") + "x", "", null);
            table.Add("machine", $"{Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}", "", null);
            table.Print();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Storing the schedules takes long on a busy machine: a round that ran past the due second is made again, with twice the margin.</summary>
    private static double Burst(string folder, int schedules)
    {
        for (var margin = 2.0 + (schedules / 250.0); ; margin *= 2)
        {
            if (Burst(folder + $"-{margin}", schedules, TimeSpan.FromSeconds(margin)) is { } elapsed)
            {
                return elapsed;
            }

            Console.Error.WriteLine($"Storing {schedules} schedules took more than {margin} s; again with twice the margin.");
        }
    }

    private static double? Burst(string folder, int schedules, TimeSpan margin)
    {
        using var part = Part.Open(folder);
        var now = DateTimeOffset.UtcNow;
        // Due at the start of a second far enough away that storing the schedules ends before it.
        var due = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).Add(margin);
        var cron = $"{due.Second} {due.Minute} {due.Hour} * * *";
        for (var i = 0; i < schedules; i++)
        {
            var definition = new ScheduleDefinition($"s{i}", Engines.Queue, cron, "UTC", "{\"n\":1}"u8.ToArray());
            part.Schedules.PutAsync(definition, now, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }

        if (DateTimeOffset.UtcNow >= due)
        {
            return null;
        }

        part.Engine.TryGetQueue(Engines.Queue, out var queue);
        part.Scheduler.Start();
        var bound = Stopwatch.StartNew();
        while (queue!.Counts().Accepted < schedules)
        {
            if (bound.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"Only {queue.Counts().Accepted} of {schedules} schedules enqueued within 3 minutes.");
            }

            Thread.Sleep(1); // A benchmark's poll of the result, not part of what is measured.
        }

        var elapsed = (DateTimeOffset.UtcNow - due).TotalMilliseconds;
        part.Scheduler.Stop(TimeSpan.FromSeconds(10));
        var accepted = queue.Counts().Accepted;
        return accepted == schedules ? elapsed : throw new InvalidOperationException($"{accepted} messages for {schedules} occurrences: some enqueued twice.");
    }

    /// <summary>Milliseconds to enqueue as many messages as one batch through a fresh SQLite store.</summary>
    private static double Batch(string folder, int count)
    {
        using var part = Part.Open(folder);
        part.Engine.TryGetQueue(Engines.Queue, out var queue);
        var payloads = Enumerable.Range(0, count).Select(_ => "{\"n\":1}"u8.ToArray()).ToList();
        var start = Stopwatch.GetTimestamp();
        var status = queue!.EnqueueBatchAsync(queue.NewBatch(payloads), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return status == EnqueueStatus.Accepted ? elapsed : throw new InvalidOperationException($"The batch was refused: {status}.");
    }

    private sealed record Part(SqliteStorage Storage, QueueEngine Engine, SqliteScheduleStore Schedules, Scheduler Scheduler) : IDisposable
    {
        /// <summary>The message database and, beside it, the schedules file, as the service lays them out.</summary>
        public static Part Open(string folder)
        {
            var file = Path.Combine(folder, "queueapi.db");
            var storage = new SqliteStorage(new SqliteStorageOptions { Path = file }, folder, TimeProvider.System);
            var options = new QueueApiOptions { Queues = { [Engines.Queue] = new QueueOptions { Workers = 2, Capacity = 1_000_000, Handler = "bench", RetainFinished = 1000 } } };
            var engine = new QueueEngine(Options.Create(options), _ => new CountingHandler(), TimeProvider.System, NullLogger<QueueEngine>.Instance, storage: storage);
            engine.Start();
            var schedules = new SqliteScheduleStore(SqliteScheduleStore.BesideDatabase(storage.Path), storage.Synchronous);
            return new Part(storage, engine, schedules, new Scheduler(schedules, engine, TimeProvider.System, new SchedulerOptions(), NullLogger.Instance));
        }

        public void Dispose()
        {
            Scheduler.Stop(TimeSpan.FromSeconds(10));
            Scheduler.Dispose();
            Engines.Stop(Engine);
            Storage.Dispose();
        }
    }
}
