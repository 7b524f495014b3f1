using Hangfire;
using Hangfire.Logging;

namespace QueueApi.Comparisons;

/// <summary>
/// Hangfire in process: its client (<see cref="BackgroundJobClient"/>) enqueues a no-op job, a
/// <see cref="BackgroundJobServer"/> with its default worker count (min(5 x cores, 20): 10 on 2 cores) runs them.
/// A storage is made fresh for each measurement.
/// </summary>
internal sealed class HangfireSide(string name, Func<JobStorage> newStorage, Action<JobStorage> cleanUp) : ISide
{
    static HangfireSide()
    {
        // What Hangfire recommends for new installations; quiet, so its logs do not cost time on the console.
        GlobalConfiguration.Configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new Silent());
    }

    public string Name => name;

    public double Enqueue(int n) => Run(storage =>
    {
        var client = new BackgroundJobClient(storage);
        return n / Producers.RunBlocking(n, () => client.Enqueue(() => NoopJob.Run()));
    });

    /// <summary>Hangfire has no batch enqueue outside its paid Pro edition.</summary>
    public double? EnqueueBatches(int n) => null;

    public double EndToEnd(int n) => Run(storage =>
    {
        NoopJob.Expect(n);
        var client = new BackgroundJobClient(storage);
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions(), storage);
        var start = DateTime.UtcNow;
        Producers.RunBlocking(n, () => client.Enqueue(() => NoopJob.Run()));
        // Three minutes: several times a normal run here, and past the first automatic retry (at most ~45 s).
        if (!NoopJob.Wait(TimeSpan.FromMinutes(3)))
        {
            throw new TimeoutException($"only {NoopJob.Count} of {n} Hangfire jobs ran within 3 minutes of the enqueues' start.");
        }

        // Done means committed: a job counts once the storage holds it in the Succeeded state.
        var monitor = storage.GetMonitoringApi();
        Producers.WaitUntil(() => monitor.SucceededListCount() >= n, "Hangfire's jobs did not all reach Succeeded");
        var seconds = (DateTime.UtcNow - start).TotalSeconds;
        server.SendStop();
        return n / seconds;
    });

    private double Run(Func<JobStorage, double> measure)
    {
        var storage = newStorage();
        try
        {
            return measure(storage);
        }
        finally
        {
            cleanUp(storage);
        }
    }

    private sealed class Silent : ILogProvider
    {
        public ILog GetLogger(string name) => new Quiet();

        private sealed class Quiet : ILog
        {
            public bool Log(LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
        }
    }
}

/// <summary>The job Hangfire runs: counts, and says when the expected number ran (public and static so Hangfire can call it).</summary>
public static class NoopJob
{
    private static readonly ManualResetEventSlim Reached = new(false);
    private static long _count;
    private static long _target = long.MaxValue;

    public static long Count => Interlocked.Read(ref _count);

    public static void Expect(long target)
    {
        Reached.Reset();
        Interlocked.Exchange(ref _count, 0);
        Volatile.Write(ref _target, target);
    }

    public static bool Wait(TimeSpan timeout) => Reached.Wait(timeout);

    public static void Run()
    {
        if (Interlocked.Increment(ref _count) == Volatile.Read(ref _target))
        {
            Reached.Set();
        }
    }
}
