using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Storage.Postgres;

namespace QueueApi.Benchmarks;

/// <summary>
/// The PostgreSQL store end to end, as a replica runs it: a backlog is stored through the group-commit intake,
/// then the engine's workers claim (batches, SKIP LOCKED) and complete (batched, guarded reports) every message
/// with a handler that does nothing, until the last report is committed. One replica, then two replicas in one
/// process on the same schema (they share this machine's cores, so the pair shows contention, not scale).
/// Needs a server: QUEUEAPI_BENCH_POSTGRES or QUEUEAPI_TEST_POSTGRES (bash .ci/postgres start writes one).
/// </summary>
internal static class PostgresThroughput
{
    private const int Messages = 200_000;
    private const int Workers = 4;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    public static int Run()
    {
        var connection = Environment.GetEnvironmentVariable("QUEUEAPI_BENCH_POSTGRES") ?? Environment.GetEnvironmentVariable("QUEUEAPI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(connection))
        {
            Console.Error.WriteLine("Set QUEUEAPI_BENCH_POSTGRES to a PostgreSQL connection string, or: bash .ci/postgres start && set -a && . .ci/postgres.env && set +a");
            return 2;
        }

        connection = connection.Trim('\'', '"');
        var table = new ResultTable($"PostgreSQL store: {Messages:N0} messages, {Workers} workers per replica, no-op handler, claim batch 1000");
        // Warm-up (JIT, pool, plans), not counted.
        Measure(connection, 20_000, replicas: 1);
        var (intake, one) = Measure(connection, Messages, replicas: 1);
        table.Add("intake: batches of 1000 stored (group commit, committed before the answer), msg/s", ResultTable.F(intake, "0"), "", null);
        table.Add("claim + complete, 1 replica, msg/s", ResultTable.F(one, "0"), ">= 50000", one >= 50_000);
        var (_, two) = Measure(connection, Messages, replicas: 2);
        table.Add("claim + complete, 2 replicas in one process (same cores), msg/s total", ResultTable.F(two, "0"), "", null);
        table.Add("machine", $"{Environment.ProcessorCount} cores, shared with other builds and tests while measured", "", null);
        table.Print();
        return 0;
    }

    private static (double Intake, double Throughput) Measure(string connection, int count, int replicas)
    {
        var schema = $"bench_{Guid.NewGuid():N}"[..20];
        var options = new PostgresStorageOptions { ConnectionString = connection, Schema = schema, ClaimBatch = 1000 };
        var queue = new QueueOptions { Workers = Workers, Capacity = 10_000_000, Handler = "bench", RetainFinished = 1000 };
        var storages = Enumerable.Range(0, replicas).Select(_ => new PostgresStorage(options, TimeProvider.System, NullLogger<PostgresStorage>.Instance)).ToList();
        try
        {
            // The backlog, through the first replica's intake.
            var store = storages[0].Open(Engines.Queue, queue);
            var now = DateTimeOffset.UtcNow;
            var payload = "{}"u8.ToArray();
            var start = Stopwatch.GetTimestamp();
            var pending = new List<Task<EnqueueStatus>>();
            for (var i = 0; i < count; i += 1000)
            {
                var batch = Enumerable.Range(0, Math.Min(1000, count - i)).Select(_ => new QueueMessage(MessageId.Next(now), Engines.Queue, payload, now)).ToList();
                pending.Add(store.EnqueueBatchAsync(batch, CancellationToken.None).AsTask());
                if (pending.Count == 16)
                {
                    Check(pending);
                }
            }

            Check(pending);
            var intake = count / Stopwatch.GetElapsedTime(start).TotalSeconds;

            var handler = new CountingHandler();
            handler.Expect(count);
            var engines = storages.Select(s => new QueueEngine(
                Options.Create(new QueueApiOptions { Queues = { [Engines.Queue] = queue } }), _ => handler, TimeProvider.System,
                NullLogger<QueueEngine>.Instance, storage: s)).ToList();
            start = Stopwatch.GetTimestamp();
            engines.ForEach(e => e.Start());
            if (!handler.Wait(Bound))
            {
                throw new TimeoutException($"Only {handler.Count} of {count} messages ran within {Bound}.");
            }

            // Done means committed: wait until the books say every message succeeded.
            var books = engines[0].Queues.Single();
            var until = Stopwatch.GetTimestamp();
            while (books.Counts().Succeeded < count)
            {
                if (Stopwatch.GetElapsedTime(until) > Bound)
                {
                    throw new TimeoutException("The outcome reports were not all committed.");
                }

                Thread.Sleep(5);
            }

            var throughput = count / Stopwatch.GetElapsedTime(start).TotalSeconds;
            engines.ForEach(Engines.Stop);
            return (intake, throughput);
        }
        finally
        {
            storages.ForEach(s => s.Dispose());
        }
    }

    private static void Check(List<Task<EnqueueStatus>> pending)
    {
        foreach (var t in pending)
        {
            if (t.GetAwaiter().GetResult() != EnqueueStatus.Accepted)
            {
                throw new InvalidOperationException($"The backlog was refused: {t.Result}");
            }
        }

        pending.Clear();
    }
}
