using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Reports;
using QueueApi.Engine;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Benchmarks;

/// <summary>
/// Hand-off from one producer thread to dedicated consumer threads: through a <see cref="Engine.Queues.WorkQueue"/>
/// with all its bookkeeping (ids, status, index, counters, retention, resilience pipeline) and a no-op handler,
/// against a raw <see cref="Channel{T}"/> with the same producer and the same number of consumer threads.
/// Each invocation moves <see cref="Messages"/> messages; results are per message.
/// </summary>
[MemoryDiagnoser]
public class HandoffBenchmarks
{
    public const int Messages = 100_000;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly byte[] _payload = new byte[100];
    private QueueEngine? _engine;
    private CountingHandler? _handler;
    private RawPool? _raw;

    [Params(1, 2)]
    public int Consumers { get; set; }

    [GlobalSetup(Target = nameof(WorkQueue))]
    public void SetUpWorkQueue()
    {
        _handler = new CountingHandler();
        _engine = Engines.Create(Consumers, capacity: Messages * 2, _handler);
        _engine.Start();
    }

    [GlobalCleanup(Target = nameof(WorkQueue))]
    public void CleanUpWorkQueue() => Engines.Stop(_engine!);

    [GlobalSetup(Target = nameof(RawChannel))]
    public void SetUpRaw() => _raw = new RawPool(Consumers);

    [GlobalCleanup(Target = nameof(RawChannel))]
    public void CleanUpRaw() => _raw!.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public void RawChannel()
    {
        var raw = _raw!;
        raw.Expect(raw.Count + Messages);
        var writer = raw.Writer;
        for (var i = 0; i < Messages; i++)
        {
            writer.TryWrite(_payload);
        }

        if (!raw.Wait(Bound))
        {
            throw new TimeoutException("The raw consumers did not finish.");
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public void WorkQueue()
    {
        var engine = _engine!;
        var handler = _handler!;
        var target = handler.Count + Messages;
        handler.Expect(target);
        for (var i = 0; i < Messages; i++)
        {
            if (engine.Enqueue(Engines.Queue, _payload, out _) != EnqueueStatus.Accepted)
            {
                throw new InvalidOperationException("The queue refused a message.");
            }
        }

        if (!handler.Wait(Bound))
        {
            throw new TimeoutException("The workers did not finish.");
        }

        // The handler runs before the books close; wait (bounded) for the last one to be booked too.
        SpinWait.SpinUntil(() => engine.Workers.Sum(w => w.Succeeded) >= target, Bound);
    }

    /// <summary>Messages per second of each method, the ratio to the raw channel, and the target.</summary>
    public static void PrintTargets(Summary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var table = new ResultTable("Engine hand-off: WorkQueue vs raw Channel<T> (same producer and consumer threads)");
        foreach (var group in summary.Reports.Where(r => r.ResultStatistics is not null).GroupBy(r => r.BenchmarkCase.Parameters["Consumers"]))
        {
            double Rate(string method) => group.Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method)
                .Select(r => 1e9 / r.ResultStatistics!.Median).DefaultIfEmpty(double.NaN).First();
            var raw = Rate(nameof(RawChannel));
            var queue = Rate(nameof(WorkQueue));
            var ratio = queue / raw;
            table.Add($"raw Channel<T>, {group.Key} consumer(s), msg/s (median)", ResultTable.F(raw, "N0"), "the limit", null);
            table.Add($"WorkQueue, {group.Key} consumer(s), msg/s (median)", ResultTable.F(queue, "N0"), "", null);
            table.Add($"WorkQueue / raw, {group.Key} consumer(s)", ResultTable.F(ratio, "0.00") + "x", ">= 0.5x", ratio >= 0.5);
        }

        table.Print();
    }

    /// <summary>Consumer threads on a raw channel, built like the queue's store and waiting like its workers.</summary>
    private sealed class RawPool : IDisposable
    {
        private readonly Channel<byte[]> _channel = Channel.CreateUnbounded<byte[]>(
            new UnboundedChannelOptions { SingleReader = false, SingleWriter = false, AllowSynchronousContinuations = false });

        private readonly ManualResetEventSlim _reached = new(false);
        private readonly Thread[] _threads;
        private long _count;
        private long _target = long.MaxValue;

        public RawPool(int consumers)
        {
            _threads = new Thread[consumers];
            for (var i = 0; i < consumers; i++)
            {
                _threads[i] = new Thread(Consume) { Name = $"raw consumer {i + 1}", IsBackground = true };
                _threads[i].Start();
            }
        }

        public ChannelWriter<byte[]> Writer => _channel.Writer;

        public long Count => Interlocked.Read(ref _count);

        public void Expect(long target)
        {
            _reached.Reset();
            Volatile.Write(ref _target, target);
        }

        public bool Wait(TimeSpan timeout) => _reached.Wait(timeout);

        public void Dispose()
        {
            _channel.Writer.TryComplete();
            foreach (var t in _threads)
            {
                t.Join(TimeSpan.FromSeconds(5));
            }

            _reached.Dispose();
        }

        private void Consume()
        {
            var reader = _channel.Reader;
            while (true)
            {
                while (reader.TryRead(out var item))
                {
                    GC.KeepAlive(item);
                    if (Interlocked.Increment(ref _count) == Volatile.Read(ref _target))
                    {
                        _reached.Set();
                    }
                }

                var wait = reader.WaitToReadAsync();
                bool more;
                if (wait.IsCompleted)
                {
                    more = wait.Result;
                }
                else
                {
                    var task = wait.AsTask();
                    more = !task.Wait(TimeSpan.FromSeconds(30)) || task.Result;
                }

                if (!more)
                {
                    return;
                }
            }
        }
    }
}
