using System.Diagnostics;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Benchmarks;

/// <summary>
/// What priorities cost the in-memory store, in one run: enqueue into a paused queue and drain it with one worker,
/// ns per message, with every message at the default priority (one lane, as before priorities) against priorities
/// spread over 0-9 (ten lanes, each claim comparing heads and reading the clock). Medians of several rounds.
/// </summary>
internal static class PriorityLanes
{
    private const int Messages = 200_000;
    private const int Rounds = 7;

    public static void Run()
    {
        var table = new ResultTable($"Priorities in the memory store ({Messages:N0} messages, 1 worker, median of {Rounds} rounds)");
        var (plainIn, plainOut) = Measure(mixed: false);
        var (mixedIn, mixedOut) = Measure(mixed: true);
        table.Add("default priority only: enqueue, ns/msg", ResultTable.F(plainIn, "0"), "", null);
        table.Add("default priority only: claim and run, ns/msg", ResultTable.F(plainOut, "0"), "", null);
        table.Add("priorities 0-9 mixed: enqueue, ns/msg", ResultTable.F(mixedIn, "0"), "", null);
        table.Add("priorities 0-9 mixed: claim and run, ns/msg", ResultTable.F(mixedOut, "0"), "", null);
        table.Add("ratio: mixed / default, claim and run", ResultTable.F(mixedOut / plainOut, "0.00") + "x", "", null);
        table.Print();
    }

    private static (double Enqueue, double Consume) Measure(bool mixed)
    {
        var payload = new byte[100];
        var handler = new CountingHandler();
        var engine = Engines.Create(1, Messages * 2, handler);
        engine.Start();
        engine.TryGetQueue(Engines.Queue, out var queue);
        var random = new Random(16);
        var priorities = Enumerable.Range(0, Messages).Select(_ => mixed ? random.Next(MessagePriority.Min, MessagePriority.Max + 1) : MessagePriority.Default).ToArray();
        var enqueue = new List<double>();
        var consume = new List<double>();
        try
        {
            for (var round = 0; round < Rounds + 2; round++)
            {
                queue!.Pause();
                Engines.WaitUntilPaused(engine);
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < Messages; i++)
                {
                    var m = queue.NewMessage(payload, priority: priorities[i]);
                    if (!queue.EnqueueAsync(m, CancellationToken.None).IsCompletedSuccessfully)
                    {
                        throw new InvalidOperationException("The memory store answered late.");
                    }
                }

                var produced = Stopwatch.GetElapsedTime(start);
                handler.Expect(handler.Count + Messages);
                start = Stopwatch.GetTimestamp();
                queue.Resume();
                if (!handler.Wait(TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException("The worker did not finish.");
                }

                var consumed = Stopwatch.GetElapsedTime(start);
                if (round >= 2)
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
