using System.Diagnostics;

namespace QueueApi.Comparisons;

/// <summary>Runs n enqueues from a fixed number of concurrent callers, as many clients of one service would.</summary>
internal static class Producers
{
    /// <summary>The same number of concurrent callers for every system.</summary>
    public const int Count = 16;

    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(10);

    /// <summary>Async callers (QueueApi's store answers when the commit is done); returns the seconds taken.</summary>
    public static double RunAsync(int n, int per, Func<int, Task> enqueue)
    {
        var next = 0;
        var start = Stopwatch.GetTimestamp();
        var callers = Enumerable.Range(0, Count).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var end = Interlocked.Add(ref next, per);
                var take = Math.Min(per, n - (end - per));
                if (take <= 0)
                {
                    return;
                }

                await enqueue(take).ConfigureAwait(false);
            }
        })).ToArray();
        if (!Task.WaitAll(callers, Bound))
        {
            throw new TimeoutException($"Enqueueing {n} did not finish within {Bound}.");
        }

        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Blocking callers on threads of their own (Hangfire's client is synchronous); returns the seconds taken.</summary>
    public static double RunBlocking(int n, Action enqueue)
    {
        var next = 0;
        Exception? failure = null;
        var start = Stopwatch.GetTimestamp();
        var threads = Enumerable.Range(0, Count).Select(i => new Thread(() =>
        {
            try
            {
                while (Interlocked.Increment(ref next) <= n)
                {
                    enqueue();
                }
            }
#pragma warning disable CA1031 // A failing caller is reported once all have stopped, not left to kill the process.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Interlocked.CompareExchange(ref failure, ex, null);
            }
        })
        { IsBackground = true, Name = $"producer-{i}" }).ToList();
        threads.ForEach(t => t.Start());
        foreach (var t in threads)
        {
            if (!t.Join(Bound))
            {
                throw new TimeoutException($"Enqueueing {n} did not finish within {Bound}.");
            }
        }

        if (failure is not null)
        {
            throw new InvalidOperationException("An enqueue failed.", failure);
        }

        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Waits (bounded) until a condition that reads the store holds, looking every 20 ms.</summary>
    public static void WaitUntil(Func<bool> done, string what)
    {
        var start = Stopwatch.GetTimestamp();
        while (!done())
        {
            if (Stopwatch.GetElapsedTime(start) > Bound)
            {
                throw new TimeoutException($"{what} within {Bound}.");
            }

            // Polling the store is how each side is asked "is it committed?"; 20 ms keeps the asking cheap.
            Thread.Sleep(20);
        }
    }
}
