using QueueApi.Engine;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Benchmarks;

/// <summary>
/// Bytes that a queued 100-byte message costs beyond its payload: many messages queued in a paused queue,
/// payloads allocated before the measurement so only the engine's own memory is counted.
/// </summary>
internal static class MemoryPerMessage
{
    private const int Messages = 200_000;
    private const int PayloadBytes = 100;

    public static void Run()
    {
        // One small round first, so JIT and first-use allocations stay out of the figures.
        Measure(10_000);
        var (retained, allocated) = Measure(Messages);
        var table = new ResultTable($"Memory ({Messages:N0} queued messages of {PayloadBytes} bytes, paused queue)");
        table.Add("retained bytes per queued message beyond the payload", ResultTable.F(retained, "0.0"), "<= 200", retained <= 200);
        table.Add("allocated bytes per enqueue beyond the payload", ResultTable.F(allocated, "0.0"), "", null);
        table.Print();
    }

    private static (double Retained, double Allocated) Measure(int count)
    {
        var engine = Engines.Create(1, count, new CountingHandler());
        engine.TryGetQueue(Engines.Queue, out var queue);
        queue!.Pause();
        engine.Start();
        try
        {
            var payloads = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                payloads[i] = new byte[PayloadBytes];
            }

            var before = GC.GetTotalMemory(forceFullCollection: true);
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var idChars = 0L;
            for (var i = 0; i < count; i++)
            {
                if (engine.Enqueue(Engines.Queue, payloads[i], out var message) != EnqueueStatus.Accepted)
                {
                    throw new InvalidOperationException("The paused queue refused a message.");
                }

                // The HTTP answer reads the id, as every enqueue through the API does.
                idChars += message!.Id.Length;
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            var after = GC.GetTotalMemory(forceFullCollection: true);
            if (queue.Store.QueuedCount != count || idChars != 20L * count)
            {
                throw new InvalidOperationException("Not every message is queued.");
            }

            GC.KeepAlive(payloads);
            return ((after - before) / (double)count, allocated / (double)count);
        }
        finally
        {
            Engines.Stop(engine);
        }
    }
}
