using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests;

public sealed class SupervisorTests
{
    [Fact]
    public async Task CrashedWorkerTurnsLivenessOffAndWindsEveryoneDownWithExitCode3()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 3);
        var fatal = new TaskCompletionSource<QueueEngine>(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.FatalStop += e => fatal.TrySetResult(e);
        Assert.True(engine.IsLive(out _));

        Assert.True(engine.CrashWorker("q-2"));
        await fatal.Task.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        Assert.False(engine.IsLive(out var why));
        Assert.Contains("q-2", why, StringComparison.Ordinal);
        Assert.False(engine.IsReady(out _));
        Assert.Equal(EnqueueStatus.ShuttingDown, engine.Enqueue("q", TestEngine.Json("{}"), out _));

        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(QueueEngine.ExitCodeWorkerFaulted, engine.ExitCode);
        Assert.Equal(StopReason.WorkerFaulted, report.Reason);
        Assert.Equal("q-2", report.FirstFailure!.WorkerId);
        Assert.Equal(typeof(Chaos.InjectedFaultException).FullName, report.FirstFailure.Exception);
        Assert.All(engine.Workers, w => Assert.False(w.Thread.IsAlive));
        var crashed = engine.Workers.Single(w => w.Id == "q-2");
        Assert.Equal(WorkerState.Faulted, crashed.State);
        Assert.NotNull(crashed.Fault);
    }

    [Fact]
    public async Task HandlerExceptionFailsOnlyThatMessageAndTheWorkerGoesOn()
    {
        using var engine = TestEngine.Create(
            new DelegateHandler((ctx, _) => ctx.Payload.Span[0] == (byte)'1' ? throw new InvalidOperationException("bad") : ValueTask.CompletedTask),
            q =>
            {
                q.Workers = 1;
                q.MaxAttempts = 1;
            });

        var bad = engine.Enqueue("1");
        var good = engine.Enqueue("2");

        TestEngine.WaitFor(() => good.IsFinished, "the second message");
        Assert.Equal(MessageStatus.DeadLettered, bad.Status);
        Assert.Equal(MessageStatus.Succeeded, good.Status);
        Assert.True(engine.IsLive(out _));
        Assert.Equal(EngineState.Running, engine.State);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task HungWorkerMakesLivenessFailWithinItsLimitPlusGraceAndExitCode4()
    {
        var limit = TimeSpan.FromMilliseconds(300);
        var grace = TimeSpan.FromMilliseconds(200);
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            DelegateHandler.Ok(),
            q =>
            {
                q.AttemptTimeout = limit;
                q.StuckGrace = grace;
            },
            time: time);
        var fatal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.FatalStop += _ => fatal.TrySetResult();
        var start = time.GetTimestamp();

        Assert.True(engine.HangWorker("q-1"));
        TestEngine.WaitFor(() => engine.Workers.First().IsHung, "the worker to hang");
        Assert.True(engine.IsLive(out _), "busy within its limit is not stuck");
        time.Advance(limit + grace - TimeSpan.FromMilliseconds(10));
        Assert.True(engine.IsLive(out _), "past its limit but within the grace is not stuck yet");

        time.AdvanceUntil(() => fatal.Task.IsCompleted, TimeSpan.FromMilliseconds(10), "the supervisor to find the worker stuck");
        var detected = time.GetElapsedTime(start);

        Assert.False(engine.IsLive(out var why));
        Assert.Contains("q-1", why, StringComparison.Ordinal);
        Assert.True(detected >= limit + grace, $"detected after {detected}, before the limit");
        time.AdvanceUntil(() => engine.Completion.IsCompleted, TimeSpan.FromMilliseconds(100), "the wind-down to give up on the hung worker");
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(QueueEngine.ExitCodeWorkerStuck, report.ExitCode);
        Assert.Equal(StopReason.WorkerStuck, report.Reason);
        Assert.Equal("stuck", report.FirstFailure!.Kind);
        Assert.Equal(["q-1"], report.AbandonedWorkers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HandlerIgnoringItsTokenPastTheGraceIsStuckAndNamesTheMessage(bool blocksWhereTheTokenFires)
    {
        using var release = new ManualResetEventSlim();
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            blocksWhereTheTokenFires ? BlocksAfterItsTokenFires(release) : new DelegateHandler((_, _) =>
            {
                release.Wait(TimeSpan.FromSeconds(20)); // ignores its token on purpose
                return ValueTask.CompletedTask;
            }),
            q =>
            {
                q.Workers = 1;
                q.AttemptTimeout = TimeSpan.FromMilliseconds(200);
                q.StuckGrace = TimeSpan.FromMilliseconds(200);
            },
            time: time);
        try
        {
            var message = engine.Enqueue();
            TestEngine.WaitFor(() => message.Status == MessageStatus.Processing, "the message to start");

            time.AdvanceUntil(() => engine.Completion.IsCompleted, TimeSpan.FromMilliseconds(50), "the stuck worker to wind the engine down");
            var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

            Assert.Equal(StopReason.WorkerStuck, report.Reason);
            Assert.Equal(message.Id, report.FirstFailure!.MessageId);
            Assert.Equal("q-1", report.FirstFailure.WorkerId);
            Assert.Equal(1, report.Queues["q"].InFlight);
            Assert.True(report.Queues["q"].Balanced);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public void LongMessageWithinItsLimitKeepsLivenessHealthy()
    {
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            new DelegateHandler((_, ct) =>
            {
                started.Set();
                release.Wait(TimeSpan.FromSeconds(20), ct);
                return ValueTask.CompletedTask;
            }),
            q => q.AttemptTimeout = TimeSpan.FromSeconds(20),
            time: time);
        var message = engine.Enqueue();
        Assert.True(started.Wait(TestEngine.Timeout, TestContext.Current.CancellationToken));

        time.Advance(TimeSpan.FromSeconds(19)); // most of its limit, on the engine's clock
        Assert.True(engine.IsLive(out _));
        Assert.Equal(WorkerState.Busy, engine.Workers.Single(w => w.Id == message.WorkerId).State);

        release.Set();
        TestEngine.WaitFor(() => message.Status == MessageStatus.Succeeded, "the message to succeed");
        Assert.True(engine.IsLive(out _));
    }

    [Fact]
    public async Task AccountingEquationHoldsExactlyAfterACrashUnderConcurrentLoad()
    {
        using var engine = TestEngine.Create(
            new DelegateHandler((ctx, _) => ctx.Payload.Span[0] == (byte)'7' && ctx.Attempt == 1 ? throw new InvalidOperationException("flaky") : ValueTask.CompletedTask),
            q =>
            {
                q.Workers = 4;
                q.Capacity = 2_000;
            });
        var accepted = 0L;
        var refused = 0L;
        using var stop = new CancellationTokenSource();
        var producers = TestEngine.RunOnThreads(4, producer =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested && n < 20_000)
            {
                var status = n % 10 == 0
                    ? engine.EnqueueBatch("q", [TestEngine.Json("7"), TestEngine.Json("1"), TestEngine.Json("2")], out var batch)
                    : engine.Enqueue("q", TestEngine.Json(n % 3 == 0 ? "7" : "1"), out _);
                if (status == EnqueueStatus.Accepted)
                {
                    Interlocked.Add(ref accepted, n % 10 == 0 ? 3 : 1);
                }
                else
                {
                    Interlocked.Increment(ref refused);
                }

                n++;
            }
        });

        TestEngine.WaitFor(() => Interlocked.Read(ref accepted) > 1_000, $"load to build up (accepted {Interlocked.Read(ref accepted)}, refused {Interlocked.Read(ref refused)})");
        engine.CrashWorker("q-3");
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await producers.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        var c = report.Queues["q"];
        Assert.Equal(Interlocked.Read(ref accepted), c.Accepted);
        Assert.Equal(c.Accepted, c.Succeeded + c.Failed + c.DeadLettered + c.Dropped + c.Queued + c.InFlight + c.Retrying);
        Assert.Equal(0, c.Queued);
        Assert.Equal(0, c.InFlight + c.Retrying);
        Assert.Equal(c.Accepted, engine.Queues.Single().Counts().Accepted);
        Assert.True(c.Dropped == 0 || c.DroppedReasons.ContainsKey("worker q-3 faulted"));
    }

    [Theory]
    [InlineData(ShutdownMode.Drain)]
    [InlineData(ShutdownMode.Immediate)]
    public async Task AccountingEquationHoldsExactlyWhenAStopLandsDuringConcurrentEnqueues(ShutdownMode mode)
    {
        using var engine = TestEngine.Create(
            new DelegateHandler((ctx, ct) =>
            {
                if (ctx.Payload.Span[0] == (byte)'9')
                {
                    // Some slower work, done on the worker thread itself (an awaited delay would need the pool).
                    ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(2));
                }

                return ValueTask.CompletedTask;
            }),
            q =>
            {
                q.Workers = 3;
                q.Capacity = 500;
            });
        var accepted = 0L;
        var refusedWhileStopping = 0L;
        var producers = TestEngine.RunOnThreads(3, producer =>
        {
            for (var n = 0; n < 50_000; n++)
            {
                var status = engine.Enqueue("q", TestEngine.Json(n % 50 == 0 ? "9" : "1"), out _);
                if (status == EnqueueStatus.Accepted)
                {
                    Interlocked.Increment(ref accepted);
                }
                else if (status == EnqueueStatus.ShuttingDown)
                {
                    Interlocked.Increment(ref refusedWhileStopping);
                    return;
                }
            }
        });

        TestEngine.WaitFor(() => Interlocked.Read(ref accepted) > 1_000, "load to build up");
        engine.RequestStop(mode);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        await producers.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        var c = report.Queues["q"];
        Assert.Equal(Interlocked.Read(ref accepted), c.Accepted);
        Assert.Equal(c.Accepted, c.Succeeded + c.Failed + c.DeadLettered + c.Dropped + c.Queued + c.InFlight + c.Retrying);
        Assert.Equal(0, c.Queued + c.InFlight + c.Retrying);
        if (mode == ShutdownMode.Drain)
        {
            Assert.Equal(0, c.Dropped);
        }
    }

    [Fact]
    public async Task OpenCircuitShowsOnTheQueueAndWorkersBackOffInsteadOfBurningMessages()
    {
        using var engine = TestEngine.Create(
            new DelegateHandler((_, _) => throw new InvalidOperationException("down")),
            q =>
            {
                q.Workers = 1;
                q.MaxAttempts = 1;
                q.CircuitBreaker.MinimumThroughput = 2;
                q.CircuitBreaker.FailureRatio = 0.5;
                q.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
            });
        var queue = engine.Queues.Single();

        var messages = Enumerable.Range(0, 10).Select(_ => engine.Enqueue()).ToList();

        TestEngine.WaitFor(() => queue.CircuitState == "open", "the circuit to open");
        TestEngine.WaitFor(() => engine.Workers.Single().State == WorkerState.BackingOff, "the worker to back off");
        var deadLettered = queue.Counts().DeadLettered;
        Assert.InRange(deadLettered, 2, 3);
        Assert.NotNull(queue.CircuitOpenUntil);
        Assert.True(queue.Counts().Queued >= 6, "the rest of the queue waits instead of being dead-lettered");
        Assert.True(engine.IsLive(out _));
        await Task.CompletedTask;
    }

    [Fact]
    public void WhenTheBreakHasPassedOnTheEnginesClockTheQueueProbesAndRecovers()
    {
        var failing = 1;
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            new DelegateHandler((_, _) => Volatile.Read(ref failing) == 1 ? throw new InvalidOperationException("down") : ValueTask.CompletedTask),
            q =>
            {
                q.Workers = 1;
                q.MaxAttempts = 1;
                q.StuckGrace = TimeSpan.FromHours(1); // the clock runs ahead of the threads here; being stuck is not the subject
                q.CircuitBreaker.MinimumThroughput = 2;
                q.CircuitBreaker.FailureRatio = 0.5;
                q.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
            },
            time: time);
        var queue = engine.Queues.Single();
        var messages = Enumerable.Range(0, 10).Select(_ => engine.Enqueue()).ToList();
        TestEngine.WaitFor(() => engine.Workers.Single().State == WorkerState.BackingOff, "the worker to back off");
        var deadLettered = queue.Counts().DeadLettered;

        Volatile.Write(ref failing, 0); // the handler's dependency is back; only the clock can tell the queue
        var waited = time.AdvanceUntil(() => messages.All(m => m.IsFinished), TimeSpan.FromSeconds(5), "the queue to recover after its break");

        Assert.True(waited >= TimeSpan.FromSeconds(30), $"the queue resumed after {waited}, before its 30 s break");
        Assert.Equal("closed", queue.CircuitState);
        Assert.Equal(deadLettered, queue.Counts().DeadLettered);
        Assert.Equal(10 - deadLettered, queue.Counts().Succeeded);
    }

    /// <summary>
    /// A hand-made wait: a TaskCompletionSource completed by a token registration (without
    /// RunContinuationsAsynchronously), so the slow clean-up after the await runs on whichever thread cancels the
    /// token. The supervisor cancels it at the time limit and must not be the thread that gets stuck.
    /// </summary>
    private static DelegateHandler BlocksAfterItsTokenFires(ManualResetEventSlim release) => new(async (_, ct) =>
    {
        var done = new TaskCompletionSource();
        using var registration = ct.Register(() => done.TrySetCanceled(ct));
        try
        {
            await done.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            release.Wait(TimeSpan.FromSeconds(20));
            throw;
        }
    });
}
