using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;

namespace QueueApi.Benchmarks;

/// <summary>Engines for the benchmarks: one queue named <c>q</c>, so thread names fit Linux's 15 characters.</summary>
internal static class Engines
{
    public const string Queue = "q";

    public static QueueEngine Create(int workers, int capacity, IMessageHandler handler, Action<QueueOptions>? configure = null)
    {
        var queue = new QueueOptions { Workers = workers, Capacity = capacity, Handler = "bench" };
        configure?.Invoke(queue);
        var options = new QueueApiOptions { Queues = { [Queue] = queue } };
        return new QueueEngine(Options.Create(options), _ => handler, TimeProvider.System, NullLogger<QueueEngine>.Instance);
    }

    /// <summary>Waits (bounded) until every worker sits idle in its store's wait.</summary>
    public static void WaitUntilIdle(QueueEngine engine)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (engine.Workers.Any(w => w.State != Engine.Workers.WorkerState.Idle))
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException("Workers did not become idle within 10 s.");
            }

            Thread.Sleep(1);
        }

        // Idle is set just before the wait; give the threads time to actually block in it.
        Thread.Sleep(20);
    }

    /// <summary>Waits (bounded) until every worker sits paused.</summary>
    public static void WaitUntilPaused(QueueEngine engine)
    {
        if (!SpinWait.SpinUntil(() => engine.Workers.All(w => w.State == Engine.Workers.WorkerState.Paused), TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("Workers did not pause within 10 s.");
        }
    }

    public static void Stop(QueueEngine engine)
    {
        engine.RequestStop(ShutdownMode.Immediate);
        if (!engine.Completion.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("The engine did not stop within 30 s.");
        }

        engine.Dispose();
    }
}

/// <summary>A handler that does nothing but count, and says when a target count is reached.</summary>
internal sealed class CountingHandler : IMessageHandler
{
    private readonly ManualResetEventSlim _reached = new(false);
    private long _count;
    private long _target = long.MaxValue;

    public long Count => Interlocked.Read(ref _count);

    public void Expect(long target)
    {
        _reached.Reset();
        Volatile.Write(ref _target, target);
        if (Count >= target)
        {
            _reached.Set();
        }
    }

    public bool Wait(TimeSpan timeout) => _reached.Wait(timeout);

    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _count) == Volatile.Read(ref _target))
        {
            _reached.Set();
        }

        return ValueTask.CompletedTask;
    }
}
