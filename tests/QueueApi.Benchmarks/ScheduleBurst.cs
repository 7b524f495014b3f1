using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Benchmarks;

/// <summary>
/// 10,000 schedules due in the same second (issue 16): the time from that second until the scheduler thread has
/// enqueued one message for each, against a plain batch enqueue of as many messages into the same kind of queue,
/// in one run. Medians of several rounds; each round a fresh engine, store and scheduler on the system clock.
/// </summary>
internal static class ScheduleBurst
{
    private const int Schedules = 10_000;
    private const int Rounds = 5;

    public static void Run()
    {
        var burst = new List<double>();
        var batch = new List<double>();
        for (var round = 0; round < Rounds + 1; round++)
        {
            var (b, p) = (MeasureBurst(), MeasureBatch());
            if (round > 0) // the first is a warm-up
            {
                burst.Add(b);
                batch.Add(p);
            }
        }

        var burstMs = ResultTable.Median(burst);
        var batchMs = ResultTable.Median(batch);
        var table = new ResultTable($"Schedules: {Schedules:N0} due in the same second (memory stores, median of {Rounds} rounds)");
        table.Add($"due second to all {Schedules:N0} enqueued, ms", ResultTable.F(burstMs, "0.0"), "< 1000 ms", burstMs < 1000);
        table.Add("per occurrence, µs", ResultTable.F(burstMs * 1000 / Schedules, "0.0"), "", null);
        table.Add($"plain batch enqueue of {Schedules:N0}, ms", ResultTable.F(batchMs, "0.00"), "", null);
        table.Add("ratio: schedules / plain batch", ResultTable.F(burstMs / batchMs, "0.0") + "x", "", null);
        table.Print();
    }

    /// <summary>Milliseconds from the due second until every schedule's message was accepted.</summary>
    private static double MeasureBurst()
    {
        var engine = Engines.Create(2, Schedules * 2, new CountingHandler());
        engine.Start();
        var store = new MemoryScheduleStore();
        using var scheduler = new Scheduler(store, engine, TimeProvider.System, new SchedulerOptions(), NullLogger.Instance);
        try
        {
            // Due at the start of a second at least 1.5 s away, so storing the schedules ends before it.
            var now = DateTimeOffset.UtcNow;
            var due = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(2);
            var cron = $"{due.Second} {due.Minute} {due.Hour} * * *";
            for (var i = 0; i < Schedules; i++)
            {
                var definition = new ScheduleDefinition($"s{i}", Engines.Queue, cron, "UTC", "{\"n\":1}"u8.ToArray());
                store.PutAsync(definition, now, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            engine.TryGetQueue(Engines.Queue, out var queue);
            scheduler.Start();
            var bound = Stopwatch.StartNew();
            while (queue!.Counts().Accepted < Schedules)
            {
                if (bound.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException($"Only {queue.Counts().Accepted} of {Schedules} schedules enqueued within 30 s.");
                }

                Thread.Sleep(1); // A benchmark's poll of the result, not part of what is measured.
            }

            return (DateTimeOffset.UtcNow - due).TotalMilliseconds;
        }
        finally
        {
            scheduler.Stop(TimeSpan.FromSeconds(5));
            Engines.Stop(engine);
        }
    }

    /// <summary>Milliseconds to enqueue the same number of messages as one batch.</summary>
    private static double MeasureBatch()
    {
        var engine = Engines.Create(2, Schedules * 2, new CountingHandler());
        engine.Start();
        try
        {
            engine.TryGetQueue(Engines.Queue, out var queue);
            var payloads = Enumerable.Range(0, Schedules).Select(_ => "{\"n\":1}"u8.ToArray()).ToList();
            var start = Stopwatch.GetTimestamp();
            var messages = queue!.NewBatch(payloads);
            var status = queue.EnqueueBatchAsync(messages, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var elapsed = Stopwatch.GetElapsedTime(start);
            return status == EnqueueStatus.Accepted ? elapsed.TotalMilliseconds : throw new InvalidOperationException($"The batch was refused: {status}.");
        }
        finally
        {
            Engines.Stop(engine);
        }
    }
}
