using System.Buffers.Text;
using System.Diagnostics;
using System.Text;
using QueueApi.Engine;
using QueueApi.Engine.Handlers;

namespace QueueApi.Benchmarks;

/// <summary>
/// Delayed delivery: 10,000 messages scheduled over the next 2 s (random due times, enqueued in random order), then
/// how late each one started after its due time (handler start minus due time, wall clock). Never early: the
/// smallest lateness must be 0 or more. Repeated a few times; the figures are over all runs. The floor, in the same
/// run: one dedicated thread that sleeps until each of the same due times in turn (what the OS's timers and
/// scheduler give on this machine now), so a loaded machine shows in both columns.
/// </summary>
internal static class Scheduling
{
    private const int Scheduled = 10_000;
    private const int Runs = 3;

    public static void Run()
    {
        var lateness = new List<double>();
        var floor = new List<double>();
        for (var run = 0; run < Runs; run++)
        {
            lateness.AddRange(Once(run));
            floor.AddRange(Floor(run));
        }

        lateness.Sort();
        floor.Sort();
        var table = new ResultTable($"Delayed delivery: lateness after the due time, {Scheduled:N0} scheduled over 2 s, {Runs} runs, 4 workers (floor: one thread sleeping to each due time)");
        table.Add("earliest start relative to due time, ms", ResultTable.F(lateness[0], "0.000"), ">= 0 (never early)", lateness[0] >= 0);
        foreach (var (name, q) in new[] { ("median", 0.5), ("p99", 0.99), ("max", 1.0) })
        {
            var (engine, bare) = (P(lateness, q), P(floor, q));
            table.Add($"{name} lateness, ms (floor {ResultTable.F(bare, "0.000")})", ResultTable.F(engine, "0.000"), name == "median" ? "" : "<= 10 ms", name == "median" ? null : engine <= 10);
        }

        table.Print();
    }

    private static double P(List<double> sorted, double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Round(q * (sorted.Count - 1)))];

    /// <summary>The machine's floor: one thread sleeping until each due time in order, as late as the OS makes it.</summary>
    private static List<double> Floor(int seed)
    {
        var random = new Random(seed);
        var start = DateTimeOffset.UtcNow.AddSeconds(1);
        var dues = Enumerable.Range(0, Scheduled).Select(_ => start.UtcTicks + random.NextInt64(TimeSpan.FromSeconds(2).Ticks)).Order().ToArray();
        var lateness = new List<double>(Scheduled);
        foreach (var due in dues)
        {
            var wait = due - DateTimeOffset.UtcNow.UtcTicks;
            if (wait > 0)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(Math.Ceiling(wait / (double)TimeSpan.TicksPerMillisecond)));
            }

            lateness.Add((DateTimeOffset.UtcNow.UtcTicks - due) / (double)TimeSpan.TicksPerMillisecond);
        }

        return lateness;
    }

    private static List<double> Once(int seed)
    {
        var handler = new LatenessHandler(Scheduled);
        var engine = Engines.Create(4, Scheduled * 2, handler);
        engine.Start();
        engine.TryGetQueue(Engines.Queue, out var queue);
        var random = new Random(seed);
        var start = DateTimeOffset.UtcNow.AddSeconds(1);
        for (var i = 0; i < Scheduled; i++)
        {
            var due = start + TimeSpan.FromTicks(random.NextInt64(TimeSpan.FromSeconds(2).Ticks));
            var message = queue!.NewMessage(Encoding.ASCII.GetBytes(due.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)), dueAt: due);
            if (queue.EnqueueAsync(message, CancellationToken.None).Result != Engine.Storage.EnqueueStatus.Accepted)
            {
                throw new InvalidOperationException("A scheduled message was refused.");
            }
        }

        if (!handler.Done.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("The scheduled messages did not all run within 30 s.");
        }

        Engines.Stop(engine);
        return handler.Lateness;
    }

    private sealed class LatenessHandler(int expected) : IMessageHandler
    {
        private readonly double[] _lateness = new double[expected];
        private int _count;

        public ManualResetEventSlim Done { get; } = new(false);

        public List<double> Lateness => [.. _lateness];

        public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
        {
            var now = DateTimeOffset.UtcNow.UtcTicks;
            Utf8Parser.TryParse(context.Payload.Span, out long due, out _);
            var i = Interlocked.Increment(ref _count) - 1;
            _lateness[i] = (now - due) / (double)TimeSpan.TicksPerMillisecond;
            if (i == _lateness.Length - 1)
            {
                Done.Set();
            }

            return ValueTask.CompletedTask;
        }
    }
}
