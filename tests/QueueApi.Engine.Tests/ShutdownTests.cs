using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests;

public sealed class ShutdownTests
{
    private static DelegateHandler Sleeping(int ms) => new(async (_, ct) => await Task.Delay(ms, ct));

    [Fact]
    public async Task DrainFinishesEveryAcceptedMessageBeforeStopping()
    {
        using var engine = TestEngine.Create(Sleeping(20), q => q.Workers = 2);
        var messages = Enumerable.Range(0, 20).Select(_ => engine.Enqueue()).ToList();

        var ticket = engine.RequestStop(ShutdownMode.Drain);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(ShutdownMode.Drain, ticket.Mode);
        Assert.All(messages, m => Assert.Equal(MessageStatus.Succeeded, m.Status));
        var counts = report.Queues["q"];
        Assert.Equal((20L, 20L, 0L), (counts.Accepted, counts.Succeeded, counts.Dropped));
        Assert.True(counts.Balanced);
        Assert.Equal(0, report.ExitCode);
        Assert.True(report.Complete);
        Assert.Empty(report.AbandonedWorkers);
        Assert.Contains(report.Phases, p => p.Name == "drain");
        Assert.All(engine.Workers, w => Assert.False(w.Thread.IsAlive));
    }

    [Fact]
    public async Task StoppingRefusesNewMessages()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        engine.RequestStop(ShutdownMode.Drain);
        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(EnqueueStatus.ShuttingDown, engine.Enqueue("q", TestEngine.Json("{}"), out _));
        Assert.False(engine.IsReady(out var why));
        Assert.Contains("not accepting", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImmediateStopCancelsInFlightAndCountsQueuedAsDroppedWithAReason()
    {
        using var started = new ManualResetEventSlim();
        using var engine = TestEngine.Create(
            new DelegateHandler(async (_, ct) =>
            {
                started.Set();
                await Task.Delay(TimeSpan.FromSeconds(30), ct);
            }),
            q => q.Workers = 1);
        var first = engine.Enqueue();
        Assert.True(started.Wait(TestEngine.Timeout, TestContext.Current.CancellationToken));
        var queued = Enumerable.Range(0, 5).Select(_ => engine.Enqueue()).ToList();

        engine.RequestStop(ShutdownMode.Immediate);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(MessageStatus.Failed, first.Status);
        Assert.Equal("cancelled by shutdown", first.Error);
        Assert.All(queued, m => Assert.Equal(MessageStatus.Dropped, m.Status));
        var counts = report.Queues["q"];
        Assert.Equal(5, counts.Dropped);
        Assert.Equal(5, counts.DroppedReasons["immediate shutdown"]);
        Assert.Equal(1, counts.Failed);
        Assert.True(counts.Balanced);
    }

    [Fact]
    public async Task DrainDeadlineCancelsWhatIsStillRunningAndDropsTheRest()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            Sleeping(30_000),
            q =>
            {
                q.Workers = 1;
                // The fake clock can run seconds ahead of a busy machine's threads: without this, the attempt's
                // limit plus its grace (35 s) could pass first and the stop would be for a stuck worker instead.
                q.AttemptTimeout = TimeSpan.FromHours(1);
            },
            o =>
            {
                o.Shutdown.DrainTimeout = TimeSpan.FromMilliseconds(200);
                o.Shutdown.CancelGrace = TimeSpan.FromHours(1); // the clock runs ahead of the threads; the grace is not the subject
            },
            time);
        var running = engine.Enqueue();
        var waiting = engine.Enqueue();
        TestEngine.WaitFor(() => running.Status == MessageStatus.Processing, "the first message to start");

        engine.RequestStop(ShutdownMode.Drain);
        var waited = time.AdvanceUntil(() => engine.Completion.IsCompleted, TimeSpan.FromMilliseconds(50), "the drain deadline to pass");
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.True(waited >= TimeSpan.FromMilliseconds(200), $"the drain ended after {waited} of its 200 ms");
        Assert.Equal(MessageStatus.Failed, running.Status);
        Assert.Equal(MessageStatus.Dropped, waiting.Status);
        Assert.Equal(1, report.Queues["q"].DroppedReasons["drain deadline passed"]);
        Assert.Contains(report.Phases, p => p.Name == "drain (deadline passed)");
        Assert.True(report.Queues["q"].Balanced);
    }

    [Fact]
    public async Task ShutdownEndsARetryBackoffAtOnce()
    {
        using var engine = TestEngine.Create(
            new DelegateHandler((_, _) => throw new InvalidOperationException("try later")),
            q =>
            {
                q.Workers = 1;
                q.BaseDelay = TimeSpan.FromSeconds(30);
                q.MaxDelay = TimeSpan.FromSeconds(30);
            });
        var message = engine.Enqueue();
        TestEngine.WaitFor(() => message.Status == MessageStatus.Retrying, "the message to wait for its retry");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        engine.RequestStop(ShutdownMode.Immediate);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the 30 s backoff held the stop for {watch.Elapsed}");
        Assert.Equal(MessageStatus.Failed, message.Status);
        Assert.Equal("cancelled by shutdown", message.Error);
        Assert.Empty(report.AbandonedWorkers);
        Assert.True(report.Queues["q"].Balanced);
    }

    [Fact]
    public async Task DrainResumesPausedQueuesSoAcceptedWorkIsFinished()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        engine.Queues.Single().Pause();
        var messages = Enumerable.Range(0, 3).Select(_ => engine.Enqueue()).ToList();

        engine.RequestStop(ShutdownMode.Drain);
        await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.All(messages, m => Assert.Equal(MessageStatus.Succeeded, m.Status));
    }

    [Fact]
    public void NoWorkerThreadOutlivesADisposedEngine()
    {
        var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 4);
        var threads = engine.Workers.Select(w => w.Thread).ToList();
        Assert.All(threads, t => Assert.True(t.IsAlive));

        engine.Dispose();

        Assert.All(threads, t => Assert.False(t.IsAlive, $"{t.Name} is still alive"));
    }

    [Fact]
    public async Task ReportIsWrittenToReportPathAsJson()
    {
        var path = Path.Combine(Path.GetTempPath(), $"queueapi-report-{Guid.NewGuid():N}.json");
        try
        {
            using var engine = TestEngine.Create(DelegateHandler.Ok(), root: o => o.Shutdown.ReportPath = path);
            engine.Enqueue();

            engine.RequestStop(ShutdownMode.Drain);
            await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

            var json = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
            Assert.Contains("\"reason\":\"requested\"", json, StringComparison.Ordinal);
            Assert.Contains("\"succeeded\":1", json, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
