using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Postgres;
using QueueApi.Storage.Postgres.Schedules;

namespace QueueApi.Benchmarks;

/// <summary>
/// Schedules due in the same second on the PostgreSQL stores (issue 16's burst, for replicas): from that second until
/// one message per schedule is stored, with one replica and with three in one process racing for every occurrence,
/// against a plain batch enqueue of as many messages through the same store, in one run. The scheduler serves due
/// schedules in chunks of 1,000, four at once: per chunk one claim statement, one batch through the intake and one
/// record statement. The single replica's figure is the median of three rounds (each on a fresh schema); the
/// three-replica run also checks that no occurrence was enqueued twice.
/// </summary>
internal static class PostgresScheduleBurst
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    public static int Run(string[] args)
    {
        var connection = (Environment.GetEnvironmentVariable("QUEUEAPI_BENCH_POSTGRES") ?? Environment.GetEnvironmentVariable("QUEUEAPI_TEST_POSTGRES"))?.Trim('\'', '"');
        if (string.IsNullOrWhiteSpace(connection))
        {
            Console.Error.WriteLine("Set QUEUEAPI_BENCH_POSTGRES to a PostgreSQL connection string, or: bash .ci/postgres start && set -a && . .ci/postgres.env && set +a");
            return 2;
        }

        var schedules = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
        Burst(connection, 200, replicas: 1); // warm-up (JIT, pool, plans), not counted
        var rounds = Enumerable.Range(0, 3).Select(_ => Burst(connection, schedules, replicas: 1)).ToList();
        Console.WriteLine($"1 replica, rounds: {string.Join(", ", rounds.Select(r => $"{r:N0} ms"))}");
        var one = ResultTable.Median(rounds);
        var three = Burst(connection, schedules, replicas: 3);
        var batch = Batch(connection, schedules);
        var table = new ResultTable($"PostgreSQL schedules: {schedules:N0} due in the same second");
        table.Add("1 replica: due second to all enqueued, ms (median of 3)", ResultTable.F(one, "0"), "< 1000 ms", one < 1000);
        table.Add("1 replica: per occurrence, ms", ResultTable.F(one / schedules, "0.00"), "", null);
        table.Add("3 replicas racing (one process): due second to all enqueued once, ms", ResultTable.F(three, "0"), "", null);
        table.Add($"plain batch enqueue of {schedules:N0} through the same store, ms", ResultTable.F(batch, "0"), "", null);
        table.Add("ratio: 1 replica / plain batch", ResultTable.F(one / batch, "0.0") + "x", "", null);
        table.Add("machine", $"{Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}", "", null);
        table.Print();
        return 0;
    }

    /// <summary>Storing the schedules takes long on a busy machine: a round that ran past the due second is made again, with twice the margin.</summary>
    private static double Burst(string connection, int schedules, int replicas)
    {
        for (var margin = 3.0 + (schedules / 1000.0); ; margin *= 2)
        {
            if (Burst(connection, schedules, replicas, TimeSpan.FromSeconds(margin)) is { } elapsed)
            {
                return elapsed;
            }

            Console.Error.WriteLine($"Storing {schedules} schedules took more than {margin} s; again with twice the margin.");
        }
    }

    private static double? Burst(string connection, int schedules, int replicas, TimeSpan margin)
    {
        var schema = $"bench_{Guid.NewGuid():N}"[..20];
        var parts = Enumerable.Range(0, replicas).Select(_ => Replica(connection, schema)).ToList();
        try
        {
            var now = DateTimeOffset.UtcNow;
            // Due at the start of a second far enough away that storing the schedules ends before it.
            var due = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).Add(margin);
            var cron = $"{due.Second} {due.Minute} {due.Hour} * * *";
            var store = parts[0].Store;
            Parallel.For(0, schedules, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
                store.PutAsync(new ScheduleDefinition($"s{i}", Engines.Queue, cron, "UTC", "{\"n\":1}"u8.ToArray()), now, CancellationToken.None).AsTask().GetAwaiter().GetResult());

            if (DateTimeOffset.UtcNow >= due)
            {
                return null;
            }

            foreach (var p in parts)
            {
                p.Scheduler.Start();
            }

            parts[0].Engine.TryGetQueue(Engines.Queue, out var queue);
            var bound = Stopwatch.StartNew();
            while (queue!.Counts().Accepted < schedules)
            {
                if (bound.Elapsed > Bound)
                {
                    throw new TimeoutException($"Only {queue.Counts().Accepted} of {schedules} schedules enqueued within {Bound}.");
                }

                Thread.Sleep(5); // A benchmark's poll of the result, not part of what is measured.
            }

            var elapsed = (DateTimeOffset.UtcNow - due).TotalMilliseconds;
            foreach (var p in parts)
            {
                p.Scheduler.Stop(TimeSpan.FromSeconds(5));
            }

            var accepted = queue.Counts().Accepted;
            return accepted == schedules ? elapsed : throw new InvalidOperationException($"{accepted} messages for {schedules} occurrences: some enqueued twice.");
        }
        finally
        {
            foreach (var p in parts)
            {
                p.Dispose();
            }
        }
    }

    private static double Batch(string connection, int count)
    {
        using var p = Replica(connection, $"bench_{Guid.NewGuid():N}"[..20]);
        p.Engine.TryGetQueue(Engines.Queue, out var queue);
        var payloads = Enumerable.Range(0, count).Select(_ => "{\"n\":1}"u8.ToArray()).ToList();
        var start = Stopwatch.GetTimestamp();
        var status = queue!.EnqueueBatchAsync(queue.NewBatch(payloads), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return status == EnqueueStatus.Accepted ? elapsed : throw new InvalidOperationException($"The batch was refused: {status}.");
    }

    private static Part Replica(string connection, string schema)
    {
        var storage = new PostgresStorage(new PostgresStorageOptions { ConnectionString = connection, Schema = schema }, TimeProvider.System, NullLogger<PostgresStorage>.Instance);
        var options = new QueueApiOptions { Queues = { [Engines.Queue] = new QueueOptions { Workers = 2, Capacity = 1_000_000, Handler = "bench", RetainFinished = 1000 } } };
        var engine = new QueueEngine(Options.Create(options), _ => new CountingHandler(), TimeProvider.System, NullLogger<QueueEngine>.Instance, storage: storage);
        engine.Start();
        var store = new PostgresScheduleStore(storage);
        return new Part(storage, engine, store, new Scheduler(store, engine, TimeProvider.System, new SchedulerOptions(), NullLogger.Instance));
    }

    private sealed record Part(PostgresStorage Storage, QueueEngine Engine, PostgresScheduleStore Store, Scheduler Scheduler) : IDisposable
    {
        public void Dispose()
        {
            Scheduler.Stop(TimeSpan.FromSeconds(5));
            Scheduler.Dispose();
            Engines.Stop(Engine);
            Storage.Dispose();
        }
    }
}
