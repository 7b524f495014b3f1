using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Comparisons;

/// <summary>
/// QueueApi's engine in process, on a store made fresh for each measurement: no HTTP, as Hangfire's client and
/// graphile-worker's addJob are in process too. The queue keeps its defaults (4 workers) but for a capacity that
/// holds the whole run.
/// </summary>
internal sealed class QueueApiSide(string name, Func<IMessageStorage> newStorage, Action? cleanUp = null) : ISide
{
    private const string Queue = "q";
    private static readonly byte[] Payload = "{}"u8.ToArray();

    public string Name => name;

    public double Enqueue(int n) => Run(n, (queue, _) => Producers.RunAsync(n, 1, _ => Single(queue)), start: false);

    public double? EnqueueBatches(int n) => Run(n, (queue, _) => Producers.RunAsync(n, 100, take => Batch(queue, take)), start: false);

    public double EndToEnd(int n) => Run(n, (queue, handler) =>
    {
        var seconds = Producers.RunAsync(n, 1, _ => Single(queue));
        var start = DateTime.UtcNow;
        if (!handler.Wait(TimeSpan.FromMinutes(10)))
        {
            throw new TimeoutException($"Only {handler.Count} of {n} messages ran.");
        }

        // Done means committed: the books count a success once its outcome is written.
        Producers.WaitUntil(() => queue.Counts().Succeeded >= n, "The outcomes were not all committed");
        return seconds + (DateTime.UtcNow - start).TotalSeconds;
    }, start: true);

    private double Run(int n, Func<WorkQueue, CountingHandler, double> measure, bool start)
    {
        var storage = newStorage();
        try
        {
            using var handler = new CountingHandler();
            handler.Expect(n);
            var queue = new QueueOptions { Handler = "noop", Capacity = Math.Max(10_000, n) };
            var engine = new QueueEngine(
                Options.Create(new QueueApiOptions { Queues = { [Queue] = queue } }), _ => handler, TimeProvider.System,
                NullLogger<QueueEngine>.Instance, storage: storage);
            try
            {
                if (start)
                {
                    engine.Start();
                }

                engine.TryGetQueue(Queue, out var q);
                return n / measure(q!, handler);
            }
            finally
            {
                // Dispose stops a running engine at once (bounded) and is safe on one never started.
                engine.Dispose();
            }
        }
        finally
        {
            storage.Dispose();
            cleanUp?.Invoke();
        }
    }

    private static async Task Single(WorkQueue queue)
    {
        var status = await queue.EnqueueAsync(queue.NewMessage(Payload), CancellationToken.None).ConfigureAwait(false);
        if (status != EnqueueStatus.Accepted)
        {
            throw new InvalidOperationException($"Enqueue refused: {status}");
        }
    }

    private static async Task Batch(WorkQueue queue, int count)
    {
        var status = await queue.EnqueueBatchAsync(queue.NewBatch(Enumerable.Repeat(Payload, count).ToArray()), CancellationToken.None).ConfigureAwait(false);
        if (status != EnqueueStatus.Accepted)
        {
            throw new InvalidOperationException($"Batch refused: {status}");
        }
    }
}

/// <summary>A handler that does nothing but count, and says when a target count is reached.</summary>
internal sealed class CountingHandler : IMessageHandler, IDisposable
{
    private readonly ManualResetEventSlim _reached = new(false);
    private long _count;
    private long _target = long.MaxValue;

    public long Count => Interlocked.Read(ref _count);

    public void Expect(long target) => Volatile.Write(ref _target, target);

    public bool Wait(TimeSpan timeout) => _reached.Wait(timeout);

    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _count) == Volatile.Read(ref _target))
        {
            _reached.Set();
        }

        return ValueTask.CompletedTask;
    }

    public void Dispose() => _reached.Dispose();
}
