using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests;

/// <summary>A handler made of a delegate, so each test says what its handler does.</summary>
internal sealed class DelegateHandler(Func<MessageContext, CancellationToken, ValueTask> handle) : IMessageHandler
{
    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken) => handle(context, cancellationToken);

    public static DelegateHandler Ok() => new((_, _) => ValueTask.CompletedTask);
}

internal static class TestEngine
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>An engine with one queue named "q" served by <paramref name="handler"/>, on <paramref name="time"/> (the system clock by default).</summary>
    public static QueueEngine Create(IMessageHandler handler, Action<QueueOptions>? queue = null, Action<QueueApiOptions>? root = null, TimeProvider? time = null,
        Func<QueueEngine, Diagnostics.EngineMetrics>? metrics = null)
    {
        var q = new QueueOptions
        {
            Workers = 2,
            Capacity = 1000,
            Handler = "test",
            BaseDelay = TimeSpan.FromMilliseconds(5),
            MaxDelay = TimeSpan.FromMilliseconds(20),
            AttemptTimeout = TimeSpan.FromSeconds(5),
            StuckGrace = TimeSpan.FromSeconds(1),
        };
        queue?.Invoke(q);
        var options = new QueueApiOptions { Queues = { ["q"] = q } };
        options.Shutdown.DrainTimeout = TimeSpan.FromSeconds(5);
        options.Shutdown.CancelGrace = TimeSpan.FromSeconds(1);
        options.Shutdown.JoinTimeout = TimeSpan.FromSeconds(1);
        root?.Invoke(options);
        var engine = new QueueEngine(Options.Create(options), _ => handler, time ?? TimeProvider.System, NullLogger<QueueEngine>.Instance, metrics);
        engine.Start();
        return engine;
    }

    public static byte[] Json(string json) => System.Text.Encoding.UTF8.GetBytes(json);

    public static QueueMessage Enqueue(this QueueEngine engine, string json = "{}")
    {
        var status = engine.Enqueue("q", Json(json), out var message);
        Assert.Equal(Engine.Storage.EnqueueStatus.Accepted, status);
        return message!;
    }

    /// <summary>Waits for a condition set by worker threads, bounded by a timeout.</summary>
    public static void WaitFor(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Timeout;
        if (!SpinWait.SpinUntil(condition, limit))
        {
            throw new TimeoutException($"Timed out after {limit} waiting for {what}.");
        }
    }

    /// <summary>
    /// Runs producers on their own background threads: pool threads can be scarce while other tests block
    /// theirs, and a starved producer would make a load test measure the thread pool instead of the engine.
    /// </summary>
    public static Task RunOnThreads(int count, Action<int> body)
    {
        var tasks = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var index = i;
            var thread = new Thread(() =>
            {
                try
                {
                    body(index);
                    done.SetResult();
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            })
            { IsBackground = true, Name = $"test producer {i}" };
            thread.Start();
            tasks.Add(done.Task);
        }

        return Task.WhenAll(tasks);
    }
}
