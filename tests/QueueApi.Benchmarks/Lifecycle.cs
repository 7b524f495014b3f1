using System.Diagnostics;
using System.Globalization;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;

namespace QueueApi.Benchmarks;

/// <summary>
/// Plain Stopwatch runs of the pool's life: (a) stopping an idle pool, (b) a dying worker reaching liveness,
/// (c) the CPU that idle workers burn. Medians over many runs, after warm-up runs that are not counted.
/// </summary>
internal static class Lifecycle
{
    private const int Runs = 25;
    private const int WarmUps = 3;
    private const int PoolSize = 8;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static void Run()
    {
        var table = new ResultTable($"Lifecycle ({PoolSize} workers, median of {Runs} runs)");
        foreach (var mode in new[] { ShutdownMode.Drain, ShutdownMode.Immediate })
        {
            var (joined, completed) = Shutdown(mode);
            table.Add($"(a) idle pool stop ({mode}): signal to every thread joined, ms", Ms(joined), "<= 1 ms", joined <= 1.0);
            table.Add($"(a) idle pool stop ({mode}): signal to report complete, ms", Ms(completed), "", null);
        }

        var death = WorkerDeath();
        table.Add("(b) worker crash to IsLive false, ms", Ms(death), "<= 1 ms", death <= 1.0);

        var (workers, supervisor, perThread) = IdleCpu(TimeSpan.FromSeconds(10));
        table.Add($"(c) CPU of {PoolSize} idle workers over 10 s, ms", Ms(workers), "<= 1 ms", workers <= 1.0);
        table.Add("(c) CPU of the idle supervisor over 10 s, ms", Ms(supervisor), "", null);
        table.Add("(c) how it was measured", perThread, "", null);
        table.Print();
    }

    private static string Ms(double value) => ResultTable.F(value, "0.000");

    private static (double Joined, double Completed) Shutdown(ShutdownMode mode)
    {
        var joined = new List<double>();
        var completed = new List<double>();
        for (var run = 0; run < WarmUps + Runs; run++)
        {
            var engine = Engines.Create(PoolSize, 1_000, new CountingHandler());
            engine.Start();
            Engines.WaitUntilIdle(engine);
            var threads = engine.Workers.Select(w => w.Thread).ToArray();

            var start = Stopwatch.GetTimestamp();
            engine.RequestStop(mode);
            foreach (var t in threads)
            {
                if (!t.Join(Bound))
                {
                    throw new TimeoutException($"{t.Name} did not end.");
                }
            }

            var allJoined = Stopwatch.GetElapsedTime(start);
            if (!engine.Completion.Wait(Bound))
            {
                throw new TimeoutException("The engine did not complete its stop.");
            }

            var done = Stopwatch.GetElapsedTime(start);
            engine.Dispose();
            if (run >= WarmUps)
            {
                joined.Add(allJoined.TotalMilliseconds);
                completed.Add(done.TotalMilliseconds);
            }
        }

        return (ResultTable.Median(joined), ResultTable.Median(completed));
    }

    private static double WorkerDeath()
    {
        var times = new List<double>();
        for (var run = 0; run < WarmUps + Runs; run++)
        {
            var engine = Engines.Create(PoolSize, 1_000, new CountingHandler());
            engine.Start();
            Engines.WaitUntilIdle(engine);
            if (!engine.IsLive(out var why))
            {
                throw new InvalidOperationException($"Not live before the crash: {why}");
            }

            var victim = engine.Workers.First().Id;
            var start = Stopwatch.GetTimestamp();
            engine.CrashWorker(victim);
            var spinner = default(SpinWait);
            while (engine.IsLive(out _))
            {
                if (Stopwatch.GetElapsedTime(start) > Bound)
                {
                    throw new TimeoutException("Liveness never reported the crash.");
                }

                // Polls as a probe would, but without starving the dying thread of the second core.
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            var elapsed = Stopwatch.GetElapsedTime(start);
            if (!engine.Completion.Wait(Bound))
            {
                throw new TimeoutException("The engine did not wind down after the crash.");
            }

            engine.Dispose();
            if (run >= WarmUps)
            {
                times.Add(elapsed.TotalMilliseconds);
            }
        }

        return ResultTable.Median(times);
    }

    /// <summary>CPU time of each worker thread from the kernel's per-thread accounting, nanosecond resolution.</summary>
    private static (double Workers, double Supervisor, string How) IdleCpu(TimeSpan window)
    {
        var engine = Engines.Create(PoolSize, 1_000, new CountingHandler());
        engine.Start();
        Engines.WaitUntilIdle(engine);
        try
        {
            var names = engine.Workers.Select(w => w.Thread.Name!).ToHashSet(StringComparer.Ordinal);
            var before = ThreadCpu.Snapshot();
            Thread.Sleep(window);
            var after = ThreadCpu.Snapshot();
            double Sum(Func<string, bool> which) => after
                .Where(a => which(a.Value.Name) && before.ContainsKey(a.Key))
                .Sum(a => (a.Value.CpuNs - before[a.Key].CpuNs) / 1e6);
            var found = after.Values.Count(t => names.Contains(t.Name));
            if (found != PoolSize)
            {
                throw new InvalidOperationException($"Found {found} of {PoolSize} worker threads in /proc/self/task.");
            }

            return (Sum(names.Contains), Sum(n => n.StartsWith("queueapi superv", StringComparison.Ordinal)),
                $"/proc/self/task/*/{ThreadCpu.Source}, {found} threads");
        }
        finally
        {
            Engines.Stop(engine);
        }
    }

    /// <summary>Reads per-thread CPU time on Linux: schedstat (ns) where the kernel has it, else stat (clock ticks).</summary>
    private static class ThreadCpu
    {
        public static string Source { get; private set; } = "schedstat";

        public static Dictionary<string, (string Name, double CpuNs)> Snapshot()
        {
            var result = new Dictionary<string, (string, double)>(StringComparer.Ordinal);
            foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    var name = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
                    result[Path.GetFileName(dir)] = (name, Read(dir));
                }
                catch (IOException)
                {
                    // The thread ended between the listing and the read.
                }
            }

            return result;
        }

        private static double Read(string dir)
        {
            var schedstat = Path.Combine(dir, "schedstat");
            if (File.Exists(schedstat))
            {
                return double.Parse(File.ReadAllText(schedstat).Split(' ')[0], CultureInfo.InvariantCulture);
            }

            Source = "stat (10 ms ticks)";
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
            var ticks = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks * 1e7;
        }
    }
}
