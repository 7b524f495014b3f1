using System.Diagnostics;
using QueueApi.Engine;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Benchmarks;

/// <summary>
/// Where the hand-off's time goes: the producer side (enqueue into a paused queue) and the consumer side
/// (one or two workers draining a full queue), each alone, in nanoseconds per message. Medians of several rounds.
/// </summary>
internal static class Split
{
    private const int Messages = 200_000;
    private const int Rounds = 7;
    private const int WarmUps = 3;

    public static void Run()
    {
        var table = new ResultTable($"Hand-off split ({Messages:N0} messages, median of {Rounds} rounds)");
        foreach (var workers in new[] { 1, 2 })
        {
            var (enqueue, consume) = Measure(workers);
            table.Add($"producer side: enqueue into a paused queue ({workers} worker(s)), ns/msg", ResultTable.F(enqueue, "0"), "", null);
            table.Add($"consumer side: {workers} worker(s) draining, ns/msg", ResultTable.F(consume, "0"), "", null);
        }

        table.Print();
    }

    private static (double Enqueue, double Consume) Measure(int workers)
    {
        var payload = new byte[100];
        var handler = new CountingHandler();
        var engine = Engines.Create(workers, Messages * 2, handler);
        engine.Start();
        engine.TryGetQueue(Engines.Queue, out var queue);
        var enqueue = new List<double>();
        var consume = new List<double>();
        try
        {
            for (var round = 0; round < Rounds + WarmUps; round++)
            {
                queue!.Pause();
                Engines.WaitUntilPaused(engine);
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < Messages; i++)
                {
                    if (engine.Enqueue(Engines.Queue, payload, out _) != EnqueueStatus.Accepted)
                    {
                        throw new InvalidOperationException("The queue refused a message.");
                    }
                }

                var produced = Stopwatch.GetElapsedTime(start);
                var target = handler.Count + Messages;
                handler.Expect(target);
                start = Stopwatch.GetTimestamp();
                queue.Resume();
                if (!handler.Wait(TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException("The worker did not finish.");
                }

                var consumed = Stopwatch.GetElapsedTime(start);
                if (round >= WarmUps)
                {
                    enqueue.Add(produced.TotalNanoseconds / Messages);
                    consume.Add(consumed.TotalNanoseconds / Messages);
                }
            }
        }
        finally
        {
            Engines.Stop(engine);
        }

        return (ResultTable.Median(enqueue), ResultTable.Median(consume));
    }
}
